from django.urls import path

from dialogues import consumers

# django-stubs' path() knows views, not ASGI apps (typeddjango/django-stubs#3354).
websocket_urlpatterns = [
    path("ws/dialogues/<str:public_id>/", consumers.DialogueConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/home/", consumers.HomeConsumer.as_asgi()),  # type: ignore[arg-type]
]
