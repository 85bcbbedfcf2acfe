"""The therapist's sockets in the therapist's language: the dashboard's pushed fragments, and
the console's fragments after a partner's step (rendered once in the site's language for every
facilitator, so a console in another language renders its own)."""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections

from dialogues import services
from live import clock
from tests.helpers import with_form_token
from tests.sockets import console_path, drain, open_socket, path_of, receive_until
from therapists import services as therapist_services

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 12, 1, 18, 0, tzinfo=ZoneInfo("UTC"))  # a Tuesday


@pytest.fixture(autouse=True)
async def _close_the_sync_threads_connections():
    """A socket closed by the server leaves its consumer's database connection open in
    asgiref's sync thread; close it, or it outlives the test database."""
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture(autouse=True)
def held_clock():
    clock.clock_set(NOW)
    yield
    clock.clock_set(None)


def speaks(language: str, *people) -> None:
    for person in people:
        person.language = language
        person.save(update_fields=["language"])


@pytest.mark.parametrize(
    "language, shown, not_shown",
    [
        ("es", ["Parejas vinculadas", "Crear un código de vinculación"], "Linked couples"),
        ("", ["Linked couples", "Make a link code"], "Parejas vinculadas"),
    ],
)
async def test_the_dashboards_pushed_fragments_are_in_the_therapists_language(
    link, therapist, language, shown, not_shown
):
    await database_sync_to_async(speaks)(language, therapist)
    ws, connected, _ = await open_socket("/ws/therapist/dashboard/", therapist)
    assert connected
    snapshot = await receive_until(ws, 'id="dashboard-couples"')
    for text in shown:
        assert text in snapshot
    assert not_shown not in snapshot
    # A change (a new link code, from another of their pages) is pushed in the same language.
    made = await database_sync_to_async(with_form_token(therapist_services.link_code_issue))(
        therapist=therapist
    )
    pushed = await receive_until(ws, "válido" if language == "es" else "valid until")
    assert ("válido hasta el" if language == "es" else "valid until") in pushed
    assert made.code not in pushed  # shown once, on the page that made it
    assert not_shown not in pushed
    await ws.disconnect()


async def test_a_spanish_speaking_therapists_console_gets_spanish_fragments_after_a_step(
    link, dialogue, therapist, alex, sam
):
    """Sam (English) offers another time: Alex's page gets the shared English fragment, and
    Dr. Rivera's Spanish console a fragment of its own, its dates in Spanish."""
    await database_sync_to_async(speaks)("es", therapist)
    ws_alex, _, _ = await open_socket(path_of(dialogue), alex)
    ws_console, connected, _ = await open_socket(console_path(dialogue), therapist)
    assert connected
    for ws in (ws_alex, ws_console):
        await drain(ws)

    await database_sync_to_async(with_form_token(services.move_submit))(
        session_public_id=dialogue.public_id,
        user=sam,
        move="propose_time",
        payload={"time": "20:00"},
        at=dialogue.step_seq,
    )
    for_alex = await receive_until(ws_alex, 'id="sync"')
    for_console = await receive_until(ws_console, 'id="sync"')
    assert "Tue 1 Dec, 20:00" in for_alex
    assert re.search(r"\bmar 1\b", for_console) and "20:00" in for_console
    assert "Tue 1 Dec" not in for_console
    for ws in (ws_alex, ws_console):
        await ws.disconnect()
