from django.urls import path

from dialogues import views

app_name = "dialogues"

urlpatterns = [
    path("dialogues/new/", views.dialogue_new, name="new"),
    path("dialogues/<str:public_id>/", views.dialogue_detail, name="detail"),
    path("dialogues/<str:public_id>/calendar.ics", views.dialogue_calendar, name="calendar"),
    path("dialogues/<str:public_id>/transcript/", views.dialogue_transcript, name="transcript"),
    path("dialogues/<str:public_id>/move/", views.dialogue_move, name="move"),
    path("dialogues/<str:public_id>/pause/", views.dialogue_pause, name="pause"),
    path("dialogues/<str:public_id>/writing-aids/", views.writing_aids, name="writing_aids"),
    path("dialogues/<str:public_id>/my-mirrors/", views.my_mirrors, name="my_mirrors"),
    path("dialogues/<str:public_id>/resume/", views.dialogue_resume, name="resume"),
    path("dialogues/<str:public_id>/end/", views.dialogue_end, name="end"),
    path("dialogues/<str:public_id>/aloud/", views.dialogue_aloud, name="aloud"),
    path("dialogues/<str:public_id>/together/", views.dialogue_together, name="together"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="feed"),
    path("dialogues/<str:public_id>/cancel/", views.dialogue_cancel, name="cancel"),
]
