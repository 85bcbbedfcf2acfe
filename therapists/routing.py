from django.urls import path

from therapists import consumers
from therapists.workshops import urls as workshops

# django-stubs' path() knows views, not ASGI apps (typeddjango/django-stubs#3354).
websocket_urlpatterns = [
    path("ws/therapist/dialogues/<str:public_id>/", consumers.FacilitatorConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/therapist/dashboard/", consumers.DashboardConsumer.as_asgi()),  # type: ignore[arg-type]
]

# Workshops keep their own package (one presenter, many couples).
websocket_urlpatterns += workshops.websocket_urlpatterns
