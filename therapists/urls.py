from django.urls import path

from therapists import views
from therapists.workshops import urls as workshops

app_name = "therapists"

urlpatterns = [
    path("therapist/", views.dashboard, name="dashboard"),
    path("therapist/codes/new/", views.link_code_new, name="code_new"),
    path("therapist/links/<str:public_id>/accept/", views.invitation_accept, name="accept"),
    path("therapist/links/<str:public_id>/end/", views.link_end, name="link_end"),
    path("therapist/couples/<str:public_id>/", views.couple_detail, name="couple"),
    path("therapist/couples/<str:public_id>/notes/", views.couple_note, name="couple_note"),
    path(
        "therapist/couples/<str:public_id>/progress/", views.couple_progress, name="couple_progress"
    ),
    path(
        "therapist/couples/<str:public_id>/questionnaires/",
        views.couple_measures,
        name="couple_measures",
    ),
    path("therapist/couples/<str:public_id>/homework/", views.homework_new, name="homework_new"),
    path("therapist/couples/<str:public_id>/sessions/", views.session_book, name="book"),
    path(
        "therapist/couples/<str:public_id>/dialogues/new/", views.dialogue_new, name="dialogue_new"
    ),
    path("therapist/dialogues/<str:public_id>/", views.console, name="console"),
    path("therapist/dialogues/<str:public_id>/move/", views.session_move, name="book_move"),
    path("therapist/dialogues/<str:public_id>/cancel/", views.session_cancel, name="book_cancel"),
    path("therapist/dialogues/<str:public_id>/begin/", views.session_begin, name="book_open"),
    path("therapist/dialogues/<str:public_id>/transcript/", views.transcript, name="transcript"),
    path("therapist/dialogues/<str:public_id>/coach/", views.coach, name="coach"),
    path("therapist/dialogues/<str:public_id>/admit/", views.call_admit, name="call_admit"),
    path("therapist/dialogues/<str:public_id>/rewind/", views.rewind, name="rewind"),
    path("therapist/dialogues/<str:public_id>/pause/", views.dialogue_pause, name="pause"),
    path("therapist/dialogues/<str:public_id>/resume/", views.dialogue_resume, name="resume"),
    path("therapist/dialogues/<str:public_id>/end/", views.dialogue_end, name="end"),
    path("therapist/dialogues/<str:public_id>/notes/", views.session_note, name="session_note"),
    path("homework/<str:public_id>/done/", views.homework_done, name="homework_done"),
    # The partners' side of links: same addresses as before links had their own app.
    path("couple/therapist/code/", views.link_code_enter, name="code_enter"),
    path("couple/therapist/invite/", views.therapist_invite, name="therapist_invite"),
    path("couple/therapist/<str:public_id>/consent/", views.consent_give, name="consent_give"),
    path(
        "couple/therapist/<str:public_id>/decline/", views.consent_decline, name="consent_decline"
    ),
    path(
        "couple/therapist/<str:public_id>/withdraw/",
        views.consent_withdraw,
        name="consent_withdraw",
    ),
]

# Workshops keep their own module (one presenter, many couples).
urlpatterns += workshops.urlpatterns
