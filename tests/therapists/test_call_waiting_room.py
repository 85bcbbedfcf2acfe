"""The waiting room of a booked session's call: partners who ask to join wait until their
therapist lets them in (one or both); the console sees who waits; a couple's own dialogue has
no waiting room. Tried as each role."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections

from dialogues import calls
from live import clock
from tests.factories import TherapistFactory
from tests.helpers import form_token
from tests.sockets import console_path, open_socket, path_of
from therapists import services
from therapists.models import CallAdmission


@pytest.fixture
def booked(link, pair, therapist, sam):
    """Dr. Rivera booked a session with the couple (Sam shares first); not open yet."""
    clock.clock_set(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))
    try:
        return services.facilitated_book(
            therapist=therapist,
            couple=pair,
            kind="intentional",
            first=sam.public_id,
            day="2026-12-03",
            time="13:00",
            minutes=60,
        )
    finally:
        clock.clock_set(None)


def admit(session, therapist, who="a", token=None):
    return services.call_admit(
        session_public_id=session.public_id,
        therapist=therapist,
        who=who,
        token=form_token() if token is None else token,
    )


# --- the service -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_therapist_lets_one_partner_in_then_both_and_twice_changes_nothing(
    booked, therapist, alex, sam
):
    slot_of_sam = booked.slot_of(sam)
    assert admit(booked, therapist, who=slot_of_sam) == [sam.pk]
    assert admit(booked, therapist, who=slot_of_sam) == []  # a double click
    assert admit(booked, therapist, who="both") == [alex.pk]
    assert set(CallAdmission.objects.values_list("partner_id", flat=True)) == {alex.pk, sam.pk}
    assert not services.call_must_wait(session_public_id=booked.public_id, user_pk=alex.pk)


@pytest.mark.django_db
def test_a_partner_let_in_gets_the_push_they_chose_once(
    booked, therapist, alex, sam, client_as, service
):
    from couples import push
    from tests.push_service import run_push_jobs, subscribe

    subscribe(client_as(sam), service.browser())
    admit(booked, therapist, who="both")
    admit(booked, therapist, who="both")  # a double click: no second push
    run_push_jobs()
    [received] = service.received
    assert received.data["title"] == "Your therapist let you in"
    assert received.data["url"].endswith(f"/dialogues/{booked.public_id}/")
    assert push.PushMessage.objects.filter(kind=push.ADMITTED).count() == 1  # Alex has no device


@pytest.mark.django_db
def test_a_partner_of_a_booked_session_waits_until_let_in_and_a_couples_own_dialogue_never(
    booked, dialogue, therapist, alex
):
    assert services.call_must_wait(session_public_id=booked.public_id, user_pk=alex.pk)
    assert not services.call_must_wait(session_public_id=dialogue.public_id, user_pk=alex.pk)
    assert calls.must_wait(session_public_id=booked.public_id, user_pk=alex.pk)  # registered


@pytest.mark.django_db
@pytest.mark.parametrize(
    "who,token,message",
    [
        ("nobody", None, "Please choose whom to let in."),
        ("a", "", "This form is out of date"),
        ("a", "<b>x</b>", "This form can't be read"),
        ("a", "x\x00y", "This form can't be read"),
    ],
)
def test_a_bad_admission_is_refused_and_saves_nothing(booked, therapist, who, token, message):
    with pytest.raises(services.TherapistError) as refused:
        admit(booked, therapist, who=who, token=token)
    assert message in refused.value.message
    assert not CallAdmission.objects.exists()


@pytest.mark.django_db
def test_a_couples_own_dialogue_has_no_waiting_room_to_admit_from(dialogue, link, therapist):
    with pytest.raises(services.TherapistError, match="Only a session you booked"):
        admit(dialogue, therapist)


@pytest.mark.django_db
def test_no_other_therapist_can_let_anyone_in(booked, pair):
    other = TherapistFactory(email="other@example.com", display_name="Dr. Other")
    with pytest.raises(services.NotFound):
        admit(booked, other)
    assert not CallAdmission.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_admission_is_announced_once_it_commits_for_others_to_hook(booked, therapist, alex):
    heard = []

    def listener(sender, *, session_public_id, user_pk, **kwargs):
        heard.append((session_public_id, user_pk))

    calls.call_admitted.connect(listener)
    try:
        admit(booked, therapist, who=booked.slot_of(alex))
    finally:
        calls.call_admitted.disconnect(listener)
    assert heard == [(booked.public_id, alex.pk)]


# --- the page: the console's waiting room, as each role -------------------------------------


def post_admit(client, session, who="both"):
    return client.post(
        f"/therapist/dialogues/{session.public_id}/admit/",
        {"who": who, "token": form_token()},
        headers={"HX-Request": "true"},
    )


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["alex", "sam", "outsider", "staff", "unverified_therapist"])
def test_only_the_linked_therapist_may_let_partners_in(role, booked, client_as, outsider):
    response = post_admit(client_as(role), booked)
    assert response.status_code in (403, 404)
    assert not CallAdmission.objects.exists()


@pytest.mark.django_db
def test_anonymous_is_sent_to_log_in(booked, client_as):
    response = post_admit(client_as("anonymous"), booked)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not CallAdmission.objects.exists()


@pytest.mark.django_db
def test_an_unlinked_therapist_may_not_let_anyone_in(booked, client_as):
    other = TherapistFactory(email="other@example.com", display_name="Dr. Other")
    assert post_admit(client_as(other), booked).status_code == 404
    assert not CallAdmission.objects.exists()


@pytest.mark.django_db
def test_the_console_shows_the_waiting_room_and_letting_both_in_updates_it(
    booked, therapist, client_as
):
    client = client_as(therapist)
    page = client.get(f"/therapist/dialogues/{booked.public_id}/").content.decode()
    assert "Waiting room" in page and "Let both in" in page and "Let Alex in" in page
    response = post_admit(client, booked)
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count("data-waiting-state>let into the call<") == 2 and "Let both in" not in html
    assert CallAdmission.objects.count() == 2


@pytest.mark.django_db
def test_a_bad_who_gets_a_clear_message_and_saves_nothing(booked, therapist, client_as):
    response = post_admit(client_as(therapist), booked, who="everyone")
    assert response.status_code == 422
    assert "Please choose whom to let in." in response.content.decode()
    assert not CallAdmission.objects.exists()


@pytest.mark.django_db
def test_a_couples_own_dialogue_shows_no_waiting_room(live_dialogue, therapist, client_as):
    page = client_as(therapist).get(f"/therapist/dialogues/{live_dialogue.public_id}/")
    assert page.status_code == 200
    assert "Waiting room" not in page.content.decode()


@pytest.fixture
def live_dialogue(link, dialogue, sam):
    from dialogues import services as dialogue_services

    dialogue_services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    return dialogue


# --- the sockets ------------------------------------------------------------------------------


@pytest.fixture
async def _close_connections():
    yield
    await sync_to_async(connections.close_all)()


async def call_frame(ws, kind: str, limit: int = 20) -> dict:
    for _ in range(limit):
        text = await ws.receive_from(timeout=3)
        if text.startswith("{") and json.loads(text).get("call") == kind:
            return json.loads(text)
    raise AssertionError(f"never received a {kind!r} call frame")


async def only_html(ws) -> bool:
    """Nothing but HTML swaps until the socket goes quiet (no call frame)."""
    while not await ws.receive_nothing(timeout=0.3):
        if (await ws.receive_from()).startswith("{"):
            return False
    return True


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_connections")
async def test_a_partner_waits_the_console_sees_it_and_being_let_in_joins_them(
    booked, therapist, alex, sam
):
    t, connected, _ = await open_socket(console_path(booked), therapist)
    assert connected
    s, connected, _ = await open_socket(path_of(booked), sam)
    assert connected
    await s.send_to(text_data=json.dumps({"type": "call", "call": "join", "media": "audio"}))
    refused = await call_frame(s, "refused")
    assert refused["reason"] == "waiting" and "let you in" in refused["message"]
    slot = await database_sync_to_async(booked.slot_of)(sam)
    assert await call_frame(t, "waiting") == {"call": "waiting", "slot": slot, "name": "Sam"}
    # Alex's page hears nothing of Sam waiting.
    a, _, _ = await open_socket(path_of(booked), alex)
    assert await only_html(a)
    # A console opened later is told who waits.
    t2, _, _ = await open_socket(console_path(booked), therapist)
    assert (await call_frame(t2, "waiting"))["name"] == "Sam"
    await database_sync_to_async(admit)(booked, therapist, who=slot)
    assert await call_frame(s, "admitted") == {"call": "admitted", "media": "audio"}
    assert (await call_frame(t, "admitted"))["slot"] == slot
    await s.send_to(text_data=json.dumps({"type": "call", "call": "join", "media": "audio"}))
    assert (await call_frame(s, "roster"))["you"]
    assert [p["name"] for p in (await call_frame(a, "roster"))["peers"]] == ["Sam"]
    for ws in (t, t2, s, a):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_close_connections")
async def test_the_therapist_never_waits_and_a_partner_leaving_the_waiting_room_is_not_let_in(
    booked, therapist, sam
):
    t, _, _ = await open_socket(console_path(booked), therapist)
    await t.send_to(text_data=json.dumps({"type": "call", "call": "join"}))
    assert (await call_frame(t, "roster"))["you"]
    s, _, _ = await open_socket(path_of(booked), sam)
    await s.send_to(text_data=json.dumps({"type": "call", "call": "join"}))
    assert (await call_frame(s, "refused"))["reason"] == "waiting"
    await s.send_to(text_data=json.dumps({"type": "call", "call": "leave"}))
    await call_frame(t, "waiting")
    await only_html(s)  # (the roster: the therapist is in the call)
    slot = await database_sync_to_async(booked.slot_of)(sam)
    await database_sync_to_async(admit)(booked, therapist, who=slot)
    assert await only_html(s)  # not waiting any more: it joins only if asked again
    for ws in (t, s):
        await ws.disconnect()
