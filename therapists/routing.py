from django.urls import path

from therapists import consumers

websocket_urlpatterns = [
    path("ws/therapist/dialogues/<str:public_id>/", consumers.FacilitatorConsumer.as_asgi()),
]
