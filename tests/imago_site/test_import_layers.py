"""Folders are boundaries: apps import one way (couples, safety, dialogues, therapists), and
only through the live layer into the project. The contracts are in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_apps_import_one_way_and_the_live_layer_imports_no_app():
    # In a fresh process: import-linter reads the source, never what this test run imported.
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports")), "--no-cache"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout
