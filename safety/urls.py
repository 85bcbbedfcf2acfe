from django.urls import path

from safety import views

app_name = "safety"

urlpatterns = [
    path("safety/", views.screening_page, name="page"),
    path("safety/answers/", views.screening_answer, name="answer"),
    path("safety/ready/", views.screening_ready, name="ready"),
    path("safety/share/", views.screening_share, name="share"),
]
