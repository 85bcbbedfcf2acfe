"""Workshop addresses (in the therapists namespace: `therapists:workshop...`) and sockets."""

from django.urls import path

from therapists.workshops import consumers, views

W = "therapist/workshops/<str:public_id>/"

urlpatterns = [
    path("therapist/workshops/", views.workshop_list, name="workshops"),
    path(W, views.workshop_board, name="workshop"),
    path(W + "edit/", views.workshop_edit, name="workshop_edit"),
    path(W + "segments/", views.segment_add, name="workshop_segment_add"),
    path(
        W + "segments/<str:segment>/remove/", views.segment_remove, name="workshop_segment_remove"
    ),
    path(W + "segments/<str:segment>/start/", views.segment_start, name="workshop_segment_start"),
    path(W + "announce/", views.announce, name="workshop_announce"),
    path(W + "reconvene/", views.reconvene, name="workshop_reconvene"),
    path(W + "resume/", views.resume, name="workshop_resume"),
    path(W + "end/", views.end, name="workshop_end"),
    path(W + "help/<str:attendance>/answered/", views.help_answered, name="workshop_help_answered"),
    path("workshops/join/", views.join, name="workshop_join"),
    path("workshops/join/<str:code>/", views.join, name="workshop_join_code"),
    path("workshops/<str:public_id>/", views.room, name="workshop_room"),
    path("workshops/<str:public_id>/help/", views.help_ask, name="workshop_help"),
    path("workshops/<str:public_id>/reading/", views.reading, name="workshop_reading"),
]

# django-stubs' path() knows views, not ASGI apps (typeddjango/django-stubs#3354).
websocket_urlpatterns = [
    path("ws/therapist/workshops/<str:public_id>/", consumers.BoardConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/workshops/<str:public_id>/", consumers.RoomConsumer.as_asgi()),  # type: ignore[arg-type]
]
