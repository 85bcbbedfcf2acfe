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

# A worker holds thousands of sockets, and Python's collector walks every tracked object of
# the process on a full pass: 0.16-0.48 s each, in a connect storm of 1,500 sockets a worker
# (measured: bench/benchmark.py --n 1000), with every socket of that worker stalled. What is
# loaded by now lives as long as the process: frozen, no pass walks it again. The youngest
# generation is collected every 50,000 allocations instead of 700 (sockets and pushes make
# few cycles; reference counting frees nearly everything).
gc.freeze()
gc.set_threshold(50_000, 20, 100)

# The worker's database thread (moves, connects) and its event loop (every socket) share one
# GIL. Each of a move's round trips to PostgreSQL gives the GIL up, and the thread then waits
# for the loop to hand it back: up to Python's switch interval, 5 ms, per round trip when the
# loop is busy, so at 2,000 dialogues moves queued behind each other. With 1 ms: p99 76, 103
# and 131 ms in three runs against 170-181 ms at 5 ms, no more CPU per step
# (bench/benchmark.py --n 2000; docs/performance.md). 0.5 ms was no better (145, 129 ms).
sys.setswitchinterval(0.001)
