"""The therapist's console socket: who may connect, presence, audiences, closing on withdrawal."""

import json

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.db import connections

import live as live_layer
from dialogues import services
from safety import services as safety_services
from tests.factories import PASSWORD, link_with_consent
from tests.helpers import at_mirror, move, names, with_form_token
from tests.sockets import (
    console_path,
    drain,
    logged_in,
    login_read,
    marker,
    open_socket,
    open_socket_reading,
    path_of,
    receive_until,
)
from tests.therapists.conftest import NOT_ALLOWED
from therapists import services as therapist_services
from therapists.consumers import FacilitatorConsumer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
async def _close_the_sync_threads_connections():
    """A socket refused or closed by the server leaves its consumer's database connection
    open in asgiref's sync thread; close it, or it outlives the test database."""
    yield
    await sync_to_async(connections.close_all)()


coach = database_sync_to_async(with_form_token(therapist_services.coaching_send))
amove = database_sync_to_async(move)  # one move through the service, at the current step


async def _messages(ws) -> list[str]:
    out = []
    while not await ws.receive_nothing(timeout=0.3):
        out.append(await ws.receive_from())
    return out


@pytest.mark.parametrize("who", [*NOT_ALLOWED, "anonymous"])
async def test_the_console_socket_refuses_everyone_but_the_linked_therapist(live, roles, who):
    ws, connected, code = await open_socket(console_path(live), roles[who])
    assert not connected
    assert code in (4401, 4403)
    await ws.disconnect()


async def test_a_therapist_cannot_use_the_partners_socket(live, therapist):
    ws, connected, _ = await open_socket(path_of(live), therapist)
    assert not connected
    await ws.disconnect()


async def test_the_linked_therapist_gets_a_snapshot_with_the_step_machine(live, therapist):
    ws, connected, _ = await open_socket(console_path(live), therapist)
    assert connected
    snapshot = await ws.receive_from()
    assert marker(snapshot) == {"kind": "snapshot", "from": 1, "seq": 2}
    assert "Sunday mornings" in snapshot and 'id="console-state"' in snapshot
    assert 'name="move"' not in snapshot
    await ws.disconnect()


async def test_both_partners_see_the_therapist_present_and_the_therapist_sees_them(
    live, therapist, alex, sam
):
    ws_a, _, _ = await open_socket(path_of(live), alex)
    ws_b, _, _ = await open_socket(path_of(live), sam)
    for ws in (ws_a, ws_b):
        await drain(ws)
    ws_t, _, _ = await open_socket(console_path(live), therapist)
    for ws in (ws_a, ws_b):
        seen = await receive_until(ws, "facilitator-presence")
        assert "Dr. Rivera (therapist) is present" in seen
    console = " ".join(await _messages(ws_t))
    assert "Alex is here" in console and "Sam is here" in console
    await ws_t.disconnect()
    for ws in (ws_a, ws_b):
        gone = await receive_until(ws, "facilitator-presence")
        assert "is present" not in gone
    await ws_a.disconnect()
    await ws_b.disconnect()


async def test_private_coaching_reaches_only_its_partner(live, therapist, alex, sam):
    ws_a, _, _ = await open_socket(path_of(live), alex)
    ws_b, _, _ = await open_socket(path_of(live), sam)
    ws_t, _, _ = await open_socket(console_path(live), therapist)
    for ws in (ws_a, ws_b, ws_t):
        await drain(ws)

    await coach(
        session_public_id=live.public_id, therapist=therapist, text="Only-for-Alex words", to="a"
    )
    for_alex = await receive_until(ws_a, 'id="sync"')
    for_sam = await receive_until(ws_b, 'id="sync"')
    for_therapist = await receive_until(ws_t, 'id="sync"')
    assert "Only-for-Alex words" in for_alex and "only you can see this" in for_alex
    assert "Only-for-Alex words" in for_therapist and "To Alex only" in for_therapist
    assert "Only-for-Alex words" not in for_sam and 'id="turn-3"' not in for_sam
    # Sam's view stays contiguous: the marker advances past the turn Sam doesn't see.
    assert marker(for_sam) == {"kind": "update", "from": 3, "seq": 3}

    await coach(session_public_id=live.public_id, therapist=therapist, text="For both")
    for ws in (ws_a, ws_b):
        update = await receive_until(ws, 'id="sync"')
        assert marker(update) == {"kind": "update", "from": 4, "seq": 4}
        assert "For both" in update and "To both partners" in update
    # A reconnecting Sam gets a snapshot without Alex's private message.
    await ws_b.disconnect()
    ws_b, _, _ = await open_socket(path_of(live), sam)
    snapshot = await ws_b.receive_from()
    assert marker(snapshot)["seq"] == 4 and "Only-for-Alex" not in snapshot
    assert "For both" in snapshot
    for ws in (ws_a, ws_b, ws_t):
        await ws.disconnect()


async def test_steering_is_pushed_to_the_partners(live, therapist, alex, sam):
    await database_sync_to_async(at_mirror)(live, alex, sam)
    ws_b, _, _ = await open_socket(path_of(live), sam)
    await drain(ws_b)
    await database_sync_to_async(therapist_services.session_rewind)(
        session_public_id=live.public_id, therapist=therapist, step="mirror"
    )
    update = await receive_until(ws_b, 'id="sync"')
    assert "sent the dialogue back to Mirroring" in update
    assert 'name="move" value="mirror"' in update  # Sam's panel asks Sam to mirror again
    await database_sync_to_async(therapist_services.session_pause_by_facilitator)(
        session_public_id=live.public_id, therapist=therapist
    )
    update = await receive_until(ws_b, 'id="sync"')
    assert "Dr. Rivera (therapist)" in update and "Time-out" in update
    await ws_b.disconnect()


async def test_withdrawing_consent_closes_the_console_at_once(live, link, therapist, alex, sam):
    ws_t, connected, _ = await open_socket(console_path(live), therapist)
    assert connected
    ws_a, _, _ = await open_socket(path_of(live), alex)
    await drain(ws_t)
    await drain(ws_a)
    await database_sync_to_async(therapist_services.consent_withdraw)(
        user=sam, link_public_id=link.public_id
    )
    closed = await ws_t.receive_output(timeout=3)
    while closed["type"] != "websocket.close":
        closed = await ws_t.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4403}
    # The partner's own socket stays open.
    await ws_a.send_to(text_data=json.dumps({"type": "ping"}))
    assert "pong" in await receive_until(ws_a, "pong")
    await ws_a.disconnect()
    ws, connected, _ = await open_socket(console_path(live), therapist)
    assert not connected
    await ws.disconnect()


async def test_access_is_checked_when_the_console_connects_not_on_every_push(
    live, link, therapist, alex, monkeypatch
):
    """Access ends by event (test_the_console_closes_however_access_ends): a push to an open
    console is forwarded as rendered, with no permission query of its own."""
    from therapists import selectors as therapist_selectors

    ws_t, _, _ = await open_socket(console_path(live), therapist)
    await drain(ws_t)

    def no_check(**kwargs):
        raise AssertionError("a forwarded push checks no access")

    monkeypatch.setattr(therapist_selectors, "therapist_access_link", no_check)
    monkeypatch.setattr(therapist_services, "therapist_access_link", no_check)
    await amove(live, alex, "send", text="Reaches the therapist")
    assert "Reaches the therapist" in await receive_until(ws_t, "Reaches the therapist")
    await ws_t.disconnect()


@pytest.mark.parametrize(
    "how",
    [
        "partner_leaves",
        "partner_deletes_account",
        "unverified",
        "deactivated",
        "therapist_deletes_account",
        "therapist_ends",
        "staff_ends",
    ],
)
async def test_the_console_closes_however_access_ends(how, live, therapist, end_access):
    ws_t, connected, _ = await open_socket(console_path(live), therapist)
    assert connected
    await drain(ws_t)
    await database_sync_to_async(end_access)(how)
    closed = await ws_t.receive_output(timeout=3)
    while closed["type"] != "websocket.close":
        closed = await ws_t.receive_output(timeout=3)
    # 4401 when the therapist's own login ended with it (deactivated or deleted).
    assert closed["code"] in (
        (4401, 4403) if "deactivated" in how or "therapist_del" in how else (4403,)
    )
    await database_sync_to_async(therapist.refresh_from_db)()
    ws, connected, _ = await open_socket(console_path(live), therapist)
    assert not connected
    await ws.disconnect()


async def test_the_console_connects_with_nine_queries_or_eight_in_two_database_trips(
    live, therapist
):
    # The login (no query where logins are cached: eight in all) and the user (Channels' auth);
    # once the socket joined its groups, the second factor a therapist must have (the pages'
    # rule); then the session with its partners, the link and what it rests on (the
    # therapist's membership check and the partners' consents), the turns, and the audit row
    # of the read: access, snapshot and audit from the same trip.
    ws, tables = await open_socket_reading(console_path(live), therapist)
    assert tables == [
        *login_read(),
        "couples_user",
        "mfa_authenticator",
        "dialogues_dialoguesession",
        "couples_therapistlink",
        "couples_membership",
        "couples_consent",
        "dialogues_turn",
        "couples_auditevent",
    ]
    await ws.disconnect()


def _ending_access_while_checking(monkeypatch, end, *, before_read: bool) -> None:
    """The console's access ends while it connects: just before its read, or just after it
    (both after it joined its groups)."""
    original = FacilitatorConsumer._authorize

    def authorize(consumer):
        if before_read:
            end("therapist_ends")
        allowed = original(consumer)
        if not before_read:
            end("therapist_ends")
        return allowed

    monkeypatch.setattr(FacilitatorConsumer, "_authorize", authorize)


@pytest.mark.parametrize("before_read", [True, False], ids=["before-its-read", "after-its-read"])
async def test_access_that_ends_while_the_console_connects_closes_it(
    live, therapist, end_access, monkeypatch, before_read
):
    _ending_access_while_checking(monkeypatch, end_access, before_read=before_read)
    ws, connected, code = await open_socket(console_path(live), therapist)
    if before_read:
        assert not connected and code == 4403
        return
    assert connected  # it read the link before it ended: the event closes it
    closed = await ws.receive_output(timeout=3)
    while closed["type"] != "websocket.close":
        closed = await ws.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4403}


async def test_another_couples_link_ending_leaves_this_console_open(live, therapist, outsider):
    def other_link():
        partner = outsider.memberships.get().couple.memberships.exclude(user=outsider).get().user
        return link_with_consent(therapist, outsider, partner)

    other = await database_sync_to_async(other_link)()
    ws_t, connected, _ = await open_socket(console_path(live), therapist)
    assert connected
    await drain(ws_t)
    await database_sync_to_async(therapist_services.therapist_link_end)(
        therapist=therapist, link_public_id=other.public_id
    )
    await ws_t.send_to(text_data=json.dumps({"type": "ping"}))
    assert "pong" in await receive_until(ws_t, "pong")
    await ws_t.disconnect()


# --- the dashboard's socket -------------------------------------------------------------------

DASHBOARD = "/ws/therapist/dashboard/"


@pytest.mark.parametrize("who", ["never_verified", "partner", "outsider", "staff", "anonymous"])
async def test_the_dashboard_socket_refuses_all_but_verified_therapists(roles, who):
    ws, connected, code = await open_socket(DASHBOARD, roles[who])
    assert not connected
    assert code == (4401 if who == "anonymous" else 4403)
    await ws.disconnect()


async def test_the_dashboard_gets_a_snapshot_of_only_the_couples_its_therapist_may_read(roles):
    ws, connected, _ = await open_socket(DASHBOARD, roles["linked"])
    assert connected
    snapshot = await ws.receive_from(timeout=5)
    assert 'id="dashboard-couples"' in snapshot and 'id="dashboard-links"' in snapshot
    assert "Alex &amp; Sam" in snapshot and "No dialogue in progress" in snapshot
    await ws.disconnect()
    # Verified therapists without access (unlinked, withdrawn, one consent) get their own
    # dashboard, with nothing about Alex and Sam.
    for who in ("unlinked", "withdrawn", "one_consent"):
        ws, connected, _ = await open_socket(DASHBOARD, roles[who])
        assert connected, who
        snapshot = await ws.receive_from(timeout=5)
        assert not names(snapshot, "Alex") and not names(snapshot, "Sam"), who
        await ws.disconnect()


start = database_sync_to_async(services.dialogue_start)


async def test_a_dialogue_starting_pausing_and_ending_reaches_only_the_linked_dashboard(
    roles, alex, sam, outsider
):
    dashboards = {}
    for who in ("linked", "unlinked", "withdrawn", "one_consent"):
        ws, connected, _ = await open_socket(DASHBOARD, roles[who])
        assert connected
        await drain(ws)
        dashboards[who] = ws
    linked = dashboards["linked"]

    session = await start(user=alex, kind="intentional", topic="The dishes")
    update = await receive_until(linked, "dashboard-couples")
    assert "Live now" in update and f"/therapist/dialogues/{session.public_id}/" in update
    assert "The dishes" not in update  # the topic is never on the dashboard

    await amove(session, sam, "accept_now")
    await drain(linked)
    await database_sync_to_async(services.session_pause)(
        session_public_id=session.public_id, user=sam
    )
    assert "Time-out" in await receive_until(linked, "dashboard-couples")
    await database_sync_to_async(services.session_end)(
        session_public_id=session.public_id, user=alex
    )
    ended = await receive_until(linked, "dashboard-couples")
    assert "No dialogue in progress" in ended and "Live now" not in ended

    # Another couple's dialogue reaches no one here.
    await start(user=outsider, kind="intentional", topic="Olly's topic")
    for who, ws in dashboards.items():
        assert await ws.receive_nothing(timeout=0.5), who
        await ws.disconnect()


async def test_a_partners_safety_needing_attention_reaches_the_dashboard_not_the_partner(
    link, therapist, alex, sam
):
    save = database_sync_to_async(safety_services.screening_save)
    await save(user=alex, answers={"afraid": "no"})  # Alex is no longer "ready": both hear it
    dashboard, _, _ = await open_socket(DASHBOARD, therapist)
    home_sam, _, _ = await open_socket("/ws/home/", sam)
    home_alex, _, _ = await open_socket("/ws/home/", alex)
    for ws in (dashboard, home_sam, home_alex):
        await drain(ws)

    await save(user=alex, answers={"afraid": "often"})
    update = await receive_until(dashboard, "dashboard-couples")
    assert "Safety questions need attention" in update
    assert "often" not in update.lower()  # never the answers
    # Neither partner's page hears anything: not even that something changed.
    assert await home_sam.receive_nothing(timeout=0.5)
    assert await home_alex.receive_nothing(timeout=0.5)

    await save(user=alex, answers={"afraid": "no"})
    assert "need attention" not in await receive_until(dashboard, "dashboard-couples")
    for ws in (dashboard, home_sam, home_alex):
        await ws.disconnect()


async def test_a_couple_linking_while_the_dashboard_is_open_is_watched_from_then_on(
    pair, therapist, alex, sam
):
    ws, _, _ = await open_socket(DASHBOARD, therapist)
    assert "Alex" not in await ws.receive_from(timeout=5)
    issue = database_sync_to_async(with_form_token(therapist_services.link_code_issue))
    code = (await issue(therapist=therapist)).code
    assert "valid until" in await receive_until(ws, "A code made")
    link = await database_sync_to_async(therapist_services.link_code_redeem)(user=alex, code=code)
    assert "1 of 2 partners consented" in await receive_until(ws, "consented")
    await database_sync_to_async(therapist_services.consent_give)(
        user=sam, link_public_id=link.public_id
    )
    assert "Alex &amp; Sam" in await receive_until(ws, "Alex &amp; Sam")
    await drain(ws)
    await start(user=alex, kind="intentional", topic="Now watched")
    assert "Live now" in await receive_until(ws, "Live now")
    await ws.disconnect()


@pytest.mark.parametrize(
    "how",
    ["withdrawn", "partner_leaves", "partner_deletes_account", "therapist_ends", "staff_ends"],
)
async def test_a_link_ending_drops_that_couple_from_the_open_dashboard(
    how, pair, link, therapist, end_access
):
    ws, connected, _ = await open_socket(DASHBOARD, therapist)
    assert connected
    assert "Alex &amp; Sam" in await ws.receive_from(timeout=5)
    await database_sync_to_async(end_access)(how)
    update = await receive_until(ws, "dashboard-couples")
    assert "Alex" not in update.split('id="dashboard-links"')[0]
    await drain(ws)
    # The dashboard left that couple's groups: nothing more about it arrives.
    layer = get_channel_layer()
    await layer.group_send(live_layer.couple_group(pair.pk), {"type": "couple.changed"})
    await layer.group_send(live_layer.couple_therapists_group(pair.pk), {"type": "couple.changed"})
    assert await ws.receive_nothing(timeout=0.5)
    await ws.send_to(text_data=json.dumps({"type": "ping"}))  # the dashboard itself stays open
    assert await ws.receive_nothing(timeout=0.3)
    await ws.disconnect()


@pytest.mark.parametrize("how", ["unverified", "deactivated", "therapist_deletes_account"])
async def test_the_dashboard_closes_when_its_therapist_may_have_none(
    how, link, therapist, end_access
):
    ws, connected, _ = await open_socket(DASHBOARD, therapist)
    assert connected
    await drain(ws)
    await database_sync_to_async(end_access)(how)
    closed = await ws.receive_output(timeout=3)
    while closed["type"] != "websocket.close":
        closed = await ws.receive_output(timeout=3)
    assert closed["code"] in (4401, 4403)
    await database_sync_to_async(therapist.refresh_from_db)()
    ws, connected, _ = await open_socket(DASHBOARD, therapist)
    assert not connected
    await ws.disconnect()


# --- the second factor: sockets refuse what pages refuse ------------------------------------


def _factor_remove(how: str, therapist, client, staff_client) -> None:
    """The therapist's authenticator app goes: turned off by them (allauth's page, after the
    reauthentication it asks for), or deleted by staff in the admin (a lost phone's reset)."""
    from allauth.mfa.models import Authenticator
    from django.urls import reverse

    app = Authenticator.objects.get(user=therapist, type=Authenticator.Type.TOTP)
    if how == "turned_off":
        client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
        assert client.post(reverse("mfa_deactivate_totp")).status_code == 302
    else:
        staff_client.post(f"/admin/mfa/authenticator/{app.pk}/delete/", {"post": "yes"})
    assert not Authenticator.objects.filter(pk=app.pk).exists()


async def test_a_therapist_without_their_second_factor_gets_no_console_and_no_dashboard(
    live, therapist
):
    await database_sync_to_async(therapist.authenticator_set.all().delete)()
    for path in (console_path(live), "/ws/therapist/dashboard/"):
        ws, connected, code = await open_socket(path, therapist)
        assert (connected, code) == (False, 4403), path
        await ws.disconnect()


@pytest.mark.parametrize("how", ["turned_off", "deleted_by_staff"])
async def test_removing_the_factor_closes_the_console_and_the_dashboard_and_keeps_them_shut(
    how, live, therapist, superuser
):
    console, connected, _ = await open_socket(console_path(live), therapist)
    assert connected
    dashboard, connected, _ = await open_socket("/ws/therapist/dashboard/", same_login_as=console)
    assert connected
    await drain(console)
    await drain(dashboard)
    staff_login = await logged_in(superuser)
    await database_sync_to_async(_factor_remove)(
        how, therapist, console.http_client, staff_login.http_client
    )
    for ws in (console, dashboard):
        closed = await ws.receive_output(timeout=3)
        while closed["type"] != "websocket.close":
            closed = await ws.receive_output(timeout=3)
        assert closed["code"] == 4401
    # Logged in still, with the password: pages send them to set up a new factor, sockets refuse.
    page = await sync_to_async(console.http_client.get)("/")
    assert page.status_code == 302 and page["Location"] == "/accounts/2fa/totp/activate/"
    for path in (console_path(live), "/ws/therapist/dashboard/"):
        ws, connected, code = await open_socket(path, same_login_as=console)
        assert (connected, code) == (False, 4403), path
        await ws.disconnect()


async def test_a_partner_removing_their_factor_keeps_their_sockets(live, alex):
    from tests.mfa import give_mfa

    await database_sync_to_async(give_mfa)(alex)
    ws, connected, _ = await open_socket(path_of(live), alex)
    assert connected
    await drain(ws)
    await database_sync_to_async(alex.authenticator_set.all().delete)()
    assert await ws.receive_nothing(timeout=0.3)  # partners needn't have one: nothing closes
    await ws.disconnect()


# --- a therapist's read over the socket is audited ------------------------------------------


def _console_reads(therapist) -> list[dict]:
    from security.models import AuditEvent

    return list(
        AuditEvent.objects.filter(action="therapist.read", actor=therapist)
        .order_by("pk")
        .values("target_id", "details")
    )


async def test_each_snapshot_of_the_console_socket_is_an_audited_read(live, therapist, alex):
    reads = database_sync_to_async(_console_reads)
    ws, connected, _ = await open_socket(console_path(live), therapist)
    assert connected
    await drain(ws)
    read = {"what": "console", "via": "socket"}
    assert await reads(therapist) == [{"target_id": live.public_id, "details": read}]

    # A step arriving on the open console is part of the read it began: no new row.
    await amove(live, alex, "send", text="One more step")
    await receive_until(ws, "One more step")
    assert len(await reads(therapist)) == 1

    # A snapshot the page asks for (it saw a gap) delivers the whole transcript again: a read.
    await ws.send_to(json.dumps({"type": "snapshot"}))
    assert marker(await receive_until(ws, 'data-kind="snapshot"'))["kind"] == "snapshot"
    assert len(await reads(therapist)) == 2
    await ws.disconnect()

    # So is a reconnect's.
    again, connected, _ = await open_socket(console_path(live), therapist)
    assert connected
    await drain(again)
    assert [r["details"] for r in await reads(therapist)] == [read, read, read]
    await again.disconnect()


async def test_a_refused_console_socket_audits_nothing(live, roles):
    ws, connected, _ = await open_socket(console_path(live), roles["unlinked"])
    assert not connected
    await ws.disconnect()
    assert await database_sync_to_async(_console_reads)(roles["unlinked"]) == []


async def test_the_couples_own_appointment_opening_at_its_time_reaches_the_console_and_partners(
    link, dialogue, therapist, alex, sam
):
    """The appointment the couple made opens by itself (a background job, inside its own
    transaction): the console and both partners' pages show it open, with no reload."""
    await amove(dialogue, sam, "propose_time", time="15")
    ws_t, connected, _ = await open_socket(console_path(dialogue), therapist)
    assert connected
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    for ws in (ws_t, ws_a, ws_b):
        await drain(ws)
    await database_sync_to_async(_open_when_due)(dialogue)
    console = await receive_until(ws_t, 'id="console-state"')
    assert "Appointment made" not in console and "Alex (sender)" in console
    assert 'name="move" value="send"' in await receive_until(ws_a, 'name="move"')
    assert "Alex is writing" in await receive_until(ws_b, "is writing")
    for ws in (ws_t, ws_a, ws_b):
        await ws.disconnect()


def _open_when_due(dialogue) -> None:
    """What the worker does at the appointed time: the opening reminder, delivered."""
    from dialogues import tasks
    from dialogues.models import Reminder
    from live import clock

    opening = Reminder.objects.get(session=dialogue, kind=Reminder.Kind.OPEN)
    clock.clock_set(opening.due_at)
    try:
        assert tasks.reminder_deliver(reminder_id=opening.pk) == tasks.SENT
    finally:
        clock.clock_set(None)


async def test_a_page_whose_countdown_ends_opens_the_appointment_for_the_console_and_partners(
    link, dialogue, therapist, alex, sam
):
    """When the job that opens it runs where its push can't reach these sockets (`make run`'s
    worker, another process), the page whose countdown reached zero says so ("due"): the
    dialogue opens through the same door, and the console and both partners' pages show it."""
    from live import clock

    clock.clock_set(clock.now().replace(second=0, microsecond=0))
    result = await amove(dialogue, sam, "propose_time", time="15")
    try:
        ws_t, connected, _ = await open_socket(console_path(dialogue), therapist)
        assert connected
        ws_a, _, _ = await open_socket(path_of(dialogue), alex)
        ws_b, _, _ = await open_socket(path_of(dialogue), sam)
        snapshot = await receive_until(ws_t, 'id="console-state"')
        assert "Nobody yet: it opens at its time" in snapshot
        assert 'data-remaining="900"' in snapshot  # the console counts down to it too
        for ws in (ws_t, ws_a, ws_b):
            await drain(ws)
        clock.clock_set(result.session.scheduled_for)
        await ws_b.send_to(text_data=json.dumps({"type": "due"}))
        console = await receive_until(ws_t, 'id="console-state"')
        assert "Alex (sender)" in console and "Nobody yet" not in console
        assert 'name="move" value="send"' in await receive_until(ws_a, 'name="move"')
        assert "The appointed time came" in await receive_until(ws_b, "is writing")
    finally:
        clock.clock_set(None)
    for ws in (ws_t, ws_a, ws_b):
        await ws.disconnect()


async def test_a_page_saying_due_before_the_time_opens_nothing(link, dialogue, therapist, sam):
    await amove(dialogue, sam, "propose_time", time="15")
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws_b)
    await ws_b.send_to(text_data=json.dumps({"type": "due"}))
    snapshot = await receive_until(ws_b, 'id="sync"')
    assert "Opens in" in snapshot
    await ws_b.disconnect()
    dialogue = await database_sync_to_async(type(dialogue).objects.get)(pk=dialogue.pk)
    assert dialogue.waits_for_time and dialogue.seq == 2
