"""Folders are boundaries: the floors import one way, top to bottom: the site's shell
(imago_site, imported by no app), therapists, practice, dialogues, safety, couples, security
(encryption at rest, audit, CSP reports, the login store), and the live kernel at the bottom
(it imports no app). Inside the dialogues app a move goes one way too: its entry points, the
form and the one door, what the door sends on, what that reads, the rows, the protocol. The
contracts are in pyproject.toml."""

import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PACKAGES = (
    "live",
    "security",
    "couples",
    "safety",
    "dialogues",
    "practice",
    "therapists",
    "imago_site",
)


def test_the_floors_import_one_way_from_the_shell_down_to_the_live_kernel():
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
    assert "Contracts: 2 kept, 0 broken." in result.stdout
    report = " ".join(result.stdout.split())  # however the report wraps its lines
    floors = "imago_site, therapists, practice, dialogues, safety, couples, security, live KEPT"
    assert floors in report
    assert "A move goes one way through the dialogues app KEPT" in report


def test_no_module_imports_itself_back_through_others():
    # In-function imports count: a cycle they hide is still a cycle (grimp, import-linter's
    # graph). Migrations aside. Run in a fresh process on the source, as above.
    script = """
import grimp
g = grimp.build_graph(*PACKAGES, include_external_packages=False, cache_dir=None)
mods = {m for m in g.modules if ".migrations" not in m}
edges = {m: g.find_modules_directly_imported_by(m) & mods - {m} for m in mods}
for m in sorted(mods):
    for other in sorted(edges[m]):
        if g.chain_exists(importer=other, imported=m):
            print(m, "<->", other)
"""
    result = subprocess.run(
        [sys.executable, "-c", script.replace("*PACKAGES", repr(PACKAGES)[1:-1])],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert result.stdout == "", "modules that import each other:\n" + result.stdout
