from django.urls import path

from therapists import consumers, workshop_routing

# django-stubs' path() knows views, not ASGI apps (typeddjango/django-stubs#3354).
websocket_urlpatterns = [
    path("ws/therapist/dialogues/<str:public_id>/", consumers.FacilitatorConsumer.as_asgi()),  # type: ignore[arg-type]
    path("ws/therapist/dashboard/", consumers.DashboardConsumer.as_asgi()),  # type: ignore[arg-type]
]

# Workshops keep their own module (one presenter, many couples).
websocket_urlpatterns += workshop_routing.websocket_urlpatterns
