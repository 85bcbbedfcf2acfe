from django.urls import path

from safety import views

app_name = "safety"

urlpatterns = [
    path("safety/", views.page, name="page"),
    path("safety/answers/", views.answer, name="answer"),
    path("safety/ready/", views.ready, name="ready"),
    path("safety/share/", views.share, name="share"),
]
