"""ASGI entry point: HTTP through Django, websockets through Channels."""

import gc
import os
import sys

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imago_site.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from dialogues import routing as dialogue_routing  # noqa: E402
from imago_site.origins import SameOriginValidator  # noqa: E402
from therapists import routing as therapist_routing  # noqa: E402

websocket_urlpatterns = [
    *dialogue_routing.websocket_urlpatterns,
    *therapist_routing.websocket_urlpatterns,
]


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Exactly the site's own origins (scheme, host and port), as Django's CSRF check.
        "websocket": SameOriginValidator(
            # types-channels wants its own check-only URL pattern type, which path() never gives.
            AuthMiddlewareStack(URLRouter(websocket_urlpatterns))  # type: ignore[arg-type]
        ),
    }
)

# A worker holds thousands of sockets: what is loaded by now lives as long as the process, so
# no collector pass walks it again, and passes come less often (figures: docs/performance.md).
gc.freeze()
gc.set_threshold(50_000, 20, 100)

# The database thread gives the GIL up on each round trip to PostgreSQL; with a busy loop it
# waited up to 5 ms to get it back (figures: docs/performance.md).
sys.setswitchinterval(0.001)
