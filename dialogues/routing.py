from django.urls import path

from dialogues import consumers

websocket_urlpatterns = [
    path("ws/dialogues/<str:public_id>/", consumers.DialogueConsumer.as_asgi()),
    path("ws/home/", consumers.HomeConsumer.as_asgi()),
]
