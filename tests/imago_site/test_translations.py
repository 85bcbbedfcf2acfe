"""Every catalogue in locale/ is complete: re-extracting the strings from today's code (`make
messages`, in a copy of the tree) leaves no entry untranslated or fuzzy, and the compiled
catalogues are the ones their .po files make. So adding an English string without its
translation fails here, and so does forgetting `compilemessages`.

It needs GNU gettext (xgettext, msgattrib, msgfmt) and make: CI installs them (.ci/run);
elsewhere the test is skipped, loudly, when one is missing.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)
LOCALE = ROOT / "locale"
# What makemessages reads: the apps, the site package, the templates and the scripts.
SOURCES = ("couples", "dialogues", "practice", "safety", "therapists", "imago_site", "templates")
CATALOGUES = sorted(LOCALE.glob("*/LC_MESSAGES/django.po"))


def _gettext_or_skip() -> None:
    tools = ("xgettext", "msgattrib", "msgfmt", "make")
    missing = [tool for tool in tools if not shutil.which(tool)]
    if not missing:
        return
    reason = f"GNU gettext or make is missing ({', '.join(missing)}): catalogues not checked"
    if os.environ.get("IMAGO_REQUIRE_GETTEXT") == "1":
        pytest.fail(reason)
    print(f"\n*** SKIPPED: {reason} ***", file=sys.stderr)
    pytest.skip(reason)


def _entries(po: Path, *flags: str) -> str:
    result = subprocess.run(
        ["msgattrib", *flags, "--no-wrap", str(po)], capture_output=True, text=True, check=True
    )
    # msgattrib prints the header entry with whatever it selects; only real entries count.
    blocks = result.stdout.split("\n\n")
    blocks = [b for b in blocks if "msgid" in b and 'msgid ""\nmsgstr' not in b]
    return "\n\n".join(blocks)


def _make_messages(tree: Path) -> None:
    """The one command (docs/languages.md), run in `tree` with this Python; the virtualenv is
    taken as installed (-o: make doesn't try to build it)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "imago_site.settings"}
    env.pop("PYTHONPATH", None)
    subprocess.run(
        ["make", "--silent", "-o", ".venv/.installed", "messages", f"PY={sys.executable}"],
        cwd=tree,
        env=env,
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    """A copy of the tree with its catalogues brought up to date with the code."""
    _gettext_or_skip()
    tree = tmp_path_factory.mktemp("tree")
    for name in SOURCES:
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(LOCALE, tree / "locale")
    for name in ("manage.py", "Makefile"):
        shutil.copy(ROOT / name, tree / name)
    _make_messages(tree)
    return tree


def test_there_is_a_second_language():
    assert [po.parent.parent.name for po in CATALOGUES] == ["es"]
    assert [code for code, _ in settings.LANGUAGES] == ["en-gb", "es"]


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_every_string_in_the_code_is_translated(po: Path, extracted: Path):
    fresh = extracted / po.relative_to(ROOT)
    untranslated = _entries(fresh, "--untranslated")
    assert untranslated == "", f"translate these in {po.relative_to(ROOT)}:\n{untranslated}"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_no_translation_is_left_fuzzy(po: Path, extracted: Path):
    fresh = extracted / po.relative_to(ROOT)
    fuzzy = _entries(fresh, "--only-fuzzy")
    where = po.relative_to(ROOT)
    assert fuzzy == "", f"check these guesses in {where}, then drop `fuzzy`:\n{fuzzy}"


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parent.parent.name)
def test_the_compiled_catalogue_is_up_to_date(po: Path, tmp_path: Path):
    _gettext_or_skip()
    compiled = tmp_path / "django.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(compiled), str(po)], check=True)
    assert compiled.read_bytes() == po.with_suffix(".mo").read_bytes(), (
        "run `make messages` and commit the .mo"
    )


def test_a_new_english_string_without_translation_is_caught(extracted: Path, tmp_path: Path):
    """The check above really looks: a string added to the code shows up untranslated."""
    tree = tmp_path / "tree"
    shutil.copytree(extracted, tree)
    view = tree / "couples" / "views.py"
    view.write_text(
        view.read_text() + '\n\ndef _probe():\n    return _("A sentence nobody translated.")\n'
    )
    _make_messages(tree)
    assert "A sentence nobody translated." in _entries(
        tree / "locale/es/LC_MESSAGES/django.po", "--untranslated"
    )
