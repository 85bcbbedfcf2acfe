from django.urls import path

from therapists import workshop_consumers as consumers

# django-stubs' path() knows views, not ASGI apps (typeddjango/django-stubs#3354).
websocket_urlpatterns = [
    path("ws/therapist/workshops/<str:public_id>/", consumers.BoardConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/workshops/<str:public_id>/", consumers.RoomConsumer.as_asgi()),  # type: ignore[arg-type]
]
