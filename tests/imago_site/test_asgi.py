"""What the server's entry module (imago_site/asgi.py, what uvicorn loads in each worker) sets
up for a long-lived process holding thousands of sockets."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_a_worker_freezes_what_it_loaded_and_collects_garbage_less_often():
    # In a fresh interpreter, as a worker starts (this test process imported it long ago).
    probe = (
        "import gc, json, imago_site.asgi;"
        "print(json.dumps([gc.get_threshold(), gc.get_freeze_count()]))"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "imago_site.settings"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    threshold, frozen = json.loads(out.stdout.strip().splitlines()[-1])
    assert threshold == [50_000, 20, 100]
    assert frozen > 50_000  # Django, the apps and their modules: never walked again


def test_a_worker_hands_the_gil_between_its_threads_every_millisecond():
    probe = "import sys, imago_site.asgi; print(sys.getswitchinterval())"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "imago_site.settings"}
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    assert float(out.stdout.strip().splitlines()[-1]) == 0.001  # Python's own default: 0.005
