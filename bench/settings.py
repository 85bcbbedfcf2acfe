"""The app's settings plus the bench's bare echo endpoint (bench/echo.py): what
`bench/benchmark.py` runs against, never production (docs/performance.md, "Running it")."""

from imago_site.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
