from django.urls import path

from couples import safety_views, views

app_name = "couples"

urlpatterns = [
    path("couple/start/", views.couple_start, name="start"),
    path("couple/leave/", views.couple_leave, name="leave"),
    path("couple/invitations/new/", views.invitation_new, name="invitation_new"),
    path(
        "couple/invitations/<str:public_id>/revoke/",
        views.invitation_revoke,
        name="invitation_revoke",
    ),
    path("invite/<str:token>/", views.invitation, name="invitation"),
    path("couple/therapist/code/", views.therapist_code_enter, name="therapist_code"),
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
    path("account/data/", views.your_data, name="your_data"),
    path("account/data/export/", views.your_data_export, name="your_data_export"),
    path("account/delete/", views.account_delete, name="account_delete"),
    path("safety/", safety_views.safety_page, name="safety"),
    path("safety/answers/", safety_views.safety_answer, name="safety_answer"),
    path("safety/ready/", safety_views.safety_ready, name="safety_ready"),
    path("safety/share/", safety_views.safety_share, name="safety_share"),
]
