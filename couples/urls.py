from django.urls import path

from couples import views

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
    path("account/two-factor-hint/", views.two_factor_hint_dismiss, name="two_factor_hint_dismiss"),
    path("account/data/", views.your_data, name="your_data"),
    path("account/data/export/", views.your_data_export, name="your_data_export"),
    path("account/delete/", views.account_delete, name="account_delete"),
    # Signed-in devices, at allauth's own address for them (imago_site/urls.py includes this
    # before allauth, so its links land here): allauth's view only signs out all the others.
    path("accounts/sessions/", views.devices, name="devices"),
    path("account/settings/", views.account_settings, name="account_settings"),
    path("account/push/on/", views.push_subscribe, name="push_subscribe"),
    path("account/push/off/", views.push_unsubscribe, name="push_unsubscribe"),
    path("language/", views.language_choose, name="language"),
    path("account/time-zone/", views.time_zone_detect, name="time_zone"),
    path("account/calendar-feed/new/", views.calendar_feed_new, name="calendar_feed_new"),
    path("account/calendar-feed/revoke/", views.calendar_feed_revoke, name="calendar_feed_revoke"),
    path("account/device-sharing/", views.device_sharing, name="device_sharing"),
]
