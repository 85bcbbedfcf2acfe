"""The live core's hot path: one lean transaction per move, each change rendered once per
audience and forwarded by every socket that follows without reading anything, and moves over
the socket the page already holds (the same service, token and errors as the HTTP post)."""

import html
import json
import re
import threading

import pytest
from channels.db import database_sync_to_async
from django.db import transaction

import live
from couples.models import FORM_OUT_OF_DATE
from dialogues import push, services
from dialogues.consumers import DialogueConsumer
from dialogues.models import DialogueSession, Turn
from tests.helpers import form_token, move, page_open, rendered_for, with_form_token
from tests.sockets import (
    QueriesInEveryThread,
    drain,
    forget_group,
    logged_in,
    login_read,
    marker,
    open_socket,
    open_socket_reading,
    path_of,
    receive_until,
    remember_group,
)

submit = database_sync_to_async(with_form_token(services.move_submit))


def _accepted(dialogue, sam) -> DialogueSession:
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    dialogue.refresh_from_db()
    return dialogue


# --- one lean transaction ---------------------------------------------------------------


def statements(captured) -> list[str]:
    """The SQL statements, without the savepoint the test's own transaction wraps around the
    service's (in production that is a plain BEGIN ... COMMIT)."""
    return [
        q["sql"].split()[0]
        for q in captured.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


@pytest.mark.django_db
def test_a_move_is_four_statements_lock_token_insert_update(
    dialogue, alex, sam, django_assert_num_queries
):
    session = _accepted(dialogue, sam)
    with django_assert_num_queries(6) as captured:  # four, and the test's savepoint
        services.move_submit(
            session_public_id=session.public_id,
            user=alex,
            move="send",
            payload={"text": "When the week is busy I feel far from you."},
            at=session.step_seq,
            token="form-1",
        )
    assert statements(captured) == ["SELECT", "SELECT", "INSERT", "UPDATE"]
    assert "FOR UPDATE" in captured.captured_queries[1]["sql"] or "sqlite" in str(
        captured.connection.vendor
    )
    # No job: the every-minute sweep finds who is still waited on (dialogues/tasks.py).
    update = captured.captured_queries[-2]["sql"]
    assert '"topic"' not in update and '"couple_id"' not in update  # only what changed


@pytest.mark.django_db
@pytest.mark.parametrize("together", [False, True], ids=["said aloud", "for the partner"])
def test_a_said_aloud_move_is_the_same_four_statements_and_one_for_the_partner_one_more(
    pair, alex, sam, django_assert_num_queries, together
):
    """Said aloud, a move is the same lean transaction; made for the partner on one device, it
    re-reads the partner's permission under the lock: one statement more. (Whose permission
    stands is read for the early render only: `test_push`.)"""
    from couples import services as couple_services

    session = services.dialogue_start(user=alex, kind="intentional", topic="Far", aloud=True)
    couple_services.device_sharing_allow(user=sam)
    if together:
        services.session_together(session_public_id=session.public_id, user=alex, on=True)
    _accepted(session, sam)
    if together:
        services.move_submit(
            session_public_id=session.public_id,
            user=alex,
            move="send",
            at=session.step_seq,
            token=form_token(),
        )
        session.refresh_from_db()
    mover, move = (alex, "mirror") if together else (alex, "send")
    with django_assert_num_queries(7 if together else 6) as captured:
        services.move_submit(
            session_public_id=session.public_id,
            user=mover,
            move=move,
            at=session.step_seq,
            token="form-aloud",
            for_partner=together,
        )
    expected = ["SELECT", "SELECT", "INSERT", "UPDATE"]
    if together:
        expected.insert(1, "SELECT")  # the permission, under the lock
    assert statements(captured) == expected


@pytest.mark.django_db
@pytest.mark.parametrize("token", [None, "", "   "])
def test_a_move_without_a_form_token_is_refused_like_a_stale_form_without_a_query(
    dialogue, alex, sam, django_assert_num_queries, token
):
    session = _accepted(dialogue, sam)
    with django_assert_num_queries(0), pytest.raises(services.DialogueError) as refused:
        services.move_submit(
            session_public_id=session.public_id,
            user=alex,
            move="send",
            payload={"text": "Hi."},
            at=session.step_seq,
            token=token,
        )
    assert refused.value.stale and "out of date" in refused.value.message
    assert not Turn.objects.filter(session=session, move="send").exists()


@pytest.mark.django_db
def test_beginning_the_dialogue_also_reads_whether_both_are_ready(
    dialogue, sam, django_assert_num_queries
):
    with django_assert_num_queries(8) as captured:  # six, and the test's savepoint
        services.move_submit(
            session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
        )
    # The lock, the form's token, both partners' readiness; the turn; the session.
    assert statements(captured) == ["SELECT", "SELECT", "SELECT", "SELECT", "INSERT", "UPDATE"]


@pytest.mark.django_db
@pytest.mark.parametrize("token", ["with\x00nul", "<script>", "x" * 65, "a b"])
def test_a_form_token_that_was_never_ours_is_refused_and_saves_nothing(dialogue, sam, token):
    with pytest.raises(services.DialogueError, match="reload"):
        services.move_submit(
            session_public_id=dialogue.public_id, user=sam, move="accept_now", token=token
        )
    assert Turn.objects.count() == 1


@pytest.mark.django_db
def test_a_nul_byte_in_a_moves_text_is_a_clear_refusal(dialogue, alex, sam):
    session = _accepted(dialogue, sam)
    with pytest.raises(services.DialogueError, match="plain text"):
        services.move_submit(
            session_public_id=session.public_id,
            user=alex,
            move="send",
            payload={"text": "a\x00b"},
            token=form_token(),
        )
    assert Turn.objects.count() == 2


# --- rendered once per audience, forwarded as it is --------------------------------------


pytestmark_sockets = pytest.mark.django_db(transaction=True)


@pytestmark_sockets
async def test_a_step_is_forwarded_to_every_socket_without_reading_the_database(
    dialogue, alex, sam, monkeypatch
):
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws_a)
    await drain(ws_b)

    def no_reads(**kwargs):
        raise AssertionError("a socket that follows renders nothing itself")

    monkeypatch.setattr(push, "render_update", no_reads)
    await submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    for ws, who in ((ws_a, "Sam"), (ws_b, "You")):
        update = await receive_until(ws, 'id="sync"')
        assert marker(update) == {"kind": "update", "from": 2, "seq": 2}
        assert f"<strong>{who}</strong>" in update  # rendered for this audience
        assert 'id="move-panel"' in update  # whose move it is changed: the panel comes too
    await ws_a.disconnect()
    await ws_b.disconnect()


@pytest.mark.shortcut("dispatch")
@pytestmark_sockets
async def test_a_forwarded_step_never_waits_for_the_sync_thread(dialogue, alex, sam, monkeypatch):
    """Channels' own dispatch hops to the one sync thread (to close old database connections)
    before every handler; a socket that forwards a push must not queue behind that thread."""
    import channels.consumer

    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    await drain(ws_a)
    hops = []

    async def counted():
        hops.append(1)

    monkeypatch.setattr(channels.consumer, "aclose_old_connections", counted)
    await submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    update = await receive_until(ws_a, 'id="sync"')
    assert marker(update) == {"kind": "update", "from": 2, "seq": 2}
    await ws_a.send_to(text_data=json.dumps({"type": "ping"}))
    assert 'id="pong"' in await receive_until(ws_a, 'id="pong"')
    assert hops == []
    await ws_a.disconnect()


@pytestmark_sockets
async def test_a_socket_that_missed_a_step_reads_both_from_the_database(dialogue, alex, sam):
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    await receive_until(ws_a, 'data-kind="snapshot"')
    await drain(ws_a)
    # Alex's socket misses step 2 (as if its group membership had been lost for a moment).
    channels = await forget_group(dialogue.group_name)
    await submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    assert await ws_a.receive_nothing(timeout=0.5)
    await remember_group(dialogue.group_name, channels)
    await submit(
        session_public_id=dialogue.public_id, user=alex, move="send", payload={"text": "One."}
    )
    update = await receive_until(ws_a, 'id="sync"')
    assert marker(update) == {"kind": "update", "from": 2, "seq": 3}  # both, in order
    assert 'id="turn-2"' in update and 'id="turn-3"' in update
    await ws_a.disconnect()


# --- moves over the open socket ----------------------------------------------------------


def _move_frame(session, name: str, token: str, **fields) -> str:
    return json.dumps(
        {"type": "move", "move": name, "at": session.step_seq, "token": token, **fields}
    )


@pytestmark_sockets
async def test_a_move_over_the_socket_is_saved_once_and_reaches_both(dialogue, alex, sam):
    await database_sync_to_async(_accepted)(dialogue, sam)
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws_a)
    await drain(ws_b)
    frame = _move_frame(dialogue, "send", "ws-form-1", text="I feel far from you <b>now</b>.")
    await ws_a.send_to(text_data=frame)
    for ws in (ws_a, ws_b):
        update = await receive_until(ws, 'id="sync"')
        assert marker(update) == {"kind": "update", "from": 3, "seq": 3}
        assert "&lt;b&gt;now&lt;/b&gt;" in update and "<b>now</b>" not in update
    await ws_a.send_to(text_data=frame)  # replayed (a reconnect resent it): nothing new
    assert await ws_b.receive_nothing(timeout=0.5)
    count = await database_sync_to_async(Turn.objects.filter(session=dialogue).count)()
    assert count == 3
    await ws_a.disconnect()
    await ws_b.disconnect()


@pytestmark_sockets
async def test_a_move_over_the_socket_is_shown_to_that_socket_at_once_not_after_a_round_trip(
    dialogue, alex, sam, monkeypatch
):
    """The mover's own socket shows the step from the fragment rendered at commit, without
    waiting for the group message to come back through the channel layer; the others hear
    it in that message (dropped here: the partner's socket hears nothing)."""
    await database_sync_to_async(_accepted)(dialogue, sam)
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws_a)
    await drain(ws_b)
    send = live.send
    monkeypatch.setattr(
        live,
        "send",
        lambda group, message: (
            None if message["type"] == "dialogue.changed" else send(group, message)
        ),
    )
    await ws_a.send_to(text_data=_move_frame(dialogue, "send", "ws-form-9", text="Far."))
    update = await receive_until(ws_a, 'id="sync"')
    assert marker(update) == {"kind": "update", "from": 3, "seq": 3}
    assert "Far." in update and 'id="move-panel"' in update  # now the partner's move
    assert await ws_b.receive_nothing(timeout=0.5)
    monkeypatch.setattr(live, "send", send)
    await submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="mirror",
        payload={"text": "You feel far."},
        at=3,
    )
    update = await receive_until(ws_a, 'id="sync"')
    assert marker(update) == {"kind": "update", "from": 4, "seq": 4}  # shown once, in order
    await ws_a.disconnect()
    await ws_b.disconnect()


@pytestmark_sockets
async def test_a_refused_move_over_the_socket_tells_only_that_socket(dialogue, alex, sam):
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws_a)
    await drain(ws_b)
    # Alex can't answer the appointment: it is Sam's move.
    await ws_a.send_to(text_data=_move_frame(dialogue, "accept_now", "ws-form-2"))
    refusal = await receive_until(ws_a, 'id="move-panel"')
    assert "not your turn" in refusal.lower()
    assert await ws_b.receive_nothing(timeout=0.5)
    count = await database_sync_to_async(Turn.objects.filter(session=dialogue).count)()
    assert count == 1
    await ws_a.disconnect()
    await ws_b.disconnect()


@pytestmark_sockets
async def test_a_move_frame_without_its_token_is_refused_to_that_socket_only(dialogue, alex, sam):
    """As over HTTP: the mover's socket gets the current panel saying why (a new form, a new
    token), the partner hears nothing, nothing is saved, and the socket stays open."""
    await database_sync_to_async(_accepted)(dialogue, sam)
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    ws_b, _, _ = await open_socket(path_of(dialogue), sam)
    await drain(ws_a)
    await drain(ws_b)
    without = json.dumps(
        {"type": "move", "move": "send", "at": dialogue.step_seq, "text": "I feel far."}
    )
    for frame in (without, _move_frame(dialogue, "send", "", text="I feel far.")):
        await ws_a.send_to(text_data=frame)
        refusal = await receive_until(ws_a, 'id="move-panel"')
        assert str(FORM_OUT_OF_DATE) in html.unescape(refusal)
        assert re.search(r'name="token" value="[^"]+"', refusal)  # the form to send again
    assert await ws_b.receive_nothing(timeout=0.5)
    count = await database_sync_to_async(Turn.objects.filter(session=dialogue).count)()
    assert count == 2
    await ws_a.send_to(text_data=json.dumps({"type": "snapshot"}))  # still connected and well
    assert marker(await receive_until(ws_a, 'id="sync"'))["seq"] == 2
    await ws_a.disconnect()
    await ws_b.disconnect()


@pytestmark_sockets
async def test_a_move_frame_with_bad_input_saves_nothing_and_keeps_the_socket(dialogue, alex, sam):
    await database_sync_to_async(_accepted)(dialogue, sam)
    ws_a, _, _ = await open_socket(path_of(dialogue), alex)
    await drain(ws_a)
    for fields in ({"text": ""}, {"text": "x" * 2001}, {"text": "nul\x00byte"}, {"text": ["a"]}):
        await ws_a.send_to(text_data=_move_frame(dialogue, "send", "ws-bad", **fields))
        assert 'id="move-panel"' in await receive_until(ws_a, 'id="move-panel"')
    count = await database_sync_to_async(Turn.objects.filter(session=dialogue).count)()
    assert count == 2
    await ws_a.send_to(text_data=json.dumps({"type": "snapshot"}))  # still connected and well
    assert marker(await receive_until(ws_a, 'id="sync"'))["seq"] == 2
    await ws_a.disconnect()


# --- access ends: sockets close by event ------------------------------------------------


@pytestmark_sockets
async def test_when_the_couple_ends_its_home_page_sockets_close(pair, alex, sam):
    from couples import services as couple_services

    ws_sam, connected, _ = await open_socket("/ws/home/", sam)
    assert connected
    await drain(ws_sam)
    await database_sync_to_async(couple_services.couple_leave)(user=alex)
    shown = await receive_until(ws_sam, "home-dialogues")
    assert "Start a dialogue" not in shown
    closed = await ws_sam.receive_output(timeout=3)
    assert closed == {"type": "websocket.close", "code": 4403}


@pytest.mark.django_db
def test_rendering_a_step_for_every_audience_reads_nothing(
    dialogue, alex, sam, django_assert_num_queries
):
    session = _accepted(dialogue, sam)
    result = services.move_submit(
        session_public_id=session.public_id,
        user=alex,
        move="send",
        payload={"text": "Hi."},
        token=form_token(),
    )
    assert result.turn is not None
    with django_assert_num_queries(0):
        fragments = push.render_change(session=result.session, turn=result.turn)
    assert set(fragments) == {"a", "b", "facilitator"}


def _published_steps(monkeypatch) -> list[dict]:
    sent: list[dict] = []
    monkeypatch.setattr(live, "send", lambda group, message: sent.append(message))
    return sent


def _renders(monkeypatch) -> list[bool]:
    """Each render of a change: whether a transaction was still open when it ran."""
    renders: list[bool] = []
    render = push.render_change

    def recording(**kwargs):
        renders.append(transaction.get_connection().in_atomic_block)
        return render(**kwargs)

    monkeypatch.setattr(push, "render_change", recording)
    return renders


@pytest.mark.django_db(transaction=True)
def test_a_move_is_rendered_once_after_its_commit_for_its_author_and_every_page_open(
    dialogue, alex, sam, monkeypatch
):
    session = _accepted(dialogue, sam)
    page_open(session, sam)  # no console is open
    sent, renders = _published_steps(monkeypatch), _renders(monkeypatch)
    result = services.move_submit(
        session_public_id=session.public_id,
        user=alex,
        move="send",
        payload={"text": "Hi."},
        token=form_token(),
    )
    assert renders == [False]  # once, with the transaction committed
    steps = [m for m in sent if m["type"] == "dialogue.changed"]
    assert [m["seq"] for m in steps] == [result.session.seq]
    assert set(steps[0]["fragments"]) == rendered_for("a", "b")
    assert "Hi." in steps[0]["fragments"]["b"]["html"]
    assert result.fragments == steps[0]["fragments"]  # the HTTP fallback answers with "a"'s


@pytest.mark.django_db(transaction=True)
def test_a_change_nobody_else_has_open_is_rendered_only_for_its_author(
    dialogue, alex, sam, monkeypatch
):
    """A console nobody has open, a partner's page that is closed: not rendered (their pages
    render the step from the database when they open)."""
    session = _accepted(dialogue, sam)
    sent = _published_steps(monkeypatch)
    move(session, alex, "send", text="Hi.")
    steps = [m for m in sent if m["type"] == "dialogue.changed"]
    assert set(steps[0]["fragments"]) == rendered_for("a")
    services.session_pause(session_public_id=session.public_id, user=sam)
    steps = [m for m in sent if m["type"] == "dialogue.changed"]
    assert set(steps[-1]["fragments"]) == rendered_for("b")


@pytest.mark.django_db(transaction=True)
def test_a_move_inside_a_callers_transaction_is_rendered_once_that_one_commits(
    dialogue, alex, sam, monkeypatch
):
    session = _accepted(dialogue, sam)
    sent, renders = _published_steps(monkeypatch), _renders(monkeypatch)
    with transaction.atomic():
        services.move_submit(
            session_public_id=session.public_id,
            user=alex,
            move="send",
            payload={"text": "Hi."},
            token=form_token(),
        )
        assert renders == [] and sent == []  # nothing rendered, nothing sent: not committed
    assert renders == [False]
    assert [set(m["fragments"]) for m in sent if m["type"] == "dialogue.changed"] == [
        rendered_for("a")
    ]


# --- a person can't make the server work for a crowd ---------------------------------------


@pytestmark_sockets
async def test_a_person_holds_only_so_many_sockets_and_a_closed_one_frees_its_place(
    dialogue, alex, settings
):
    settings.IMAGO_MAX_SOCKETS_PER_PERSON = 3
    settings.IMAGO_MAX_SOCKETS_PER_LOGIN = 3
    held = []
    for _ in range(3):
        ws, connected, _ = await open_socket(path_of(dialogue), alex)
        assert connected
        held.append(ws)
    _extra, connected, code = await open_socket(path_of(dialogue), alex)
    assert not connected and code == 4429
    await held.pop().disconnect()
    again, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    for ws in [*held, again]:
        await ws.disconnect()


@pytestmark_sockets
async def test_a_socket_refused_for_its_login_takes_no_place_in_its_persons_count(
    dialogue, alex, settings
):
    from asgiref.sync import sync_to_async

    from live import places

    settings.IMAGO_MAX_SOCKETS_PER_PERSON = 3
    settings.IMAGO_MAX_SOCKETS_PER_LOGIN = 1
    first, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    _extra, connected, code = await open_socket(path_of(dialogue), same_login_as=first)
    assert not connected and code == 4429
    person = places.person_key(alex.pk)
    assert await sync_to_async(places.held)(person) == 1  # all places or none
    await first.disconnect()


@pytestmark_sockets
@pytest.mark.parametrize(
    "engine", ["django.contrib.sessions.backends.db", "security.sessions"], ids=["db", "cached"]
)
async def test_sockets_share_one_cache_client_instead_of_opening_one_each(
    dialogue, alex, sam, monkeypatch, settings, engine
):
    """Django's `cache` is one object per async context: a socket counting its place, or
    reading its login from the cache (the session store with Redis), through it would open
    (and keep) a connection to Redis of its own. Many sockets make none."""
    from django.core.cache import caches

    from live import socket_cache

    settings.SESSION_ENGINE = engine
    settings.IMAGO_MAX_SOCKETS_PER_PERSON = settings.IMAGO_MAX_SOCKETS_PER_LOGIN = 10
    shared = socket_cache()  # made once per process (here: maybe now)
    made = []
    original = caches.create_connection
    monkeypatch.setattr(
        caches, "create_connection", lambda alias: made.append(alias) or original(alias)
    )
    sockets = [await open_socket(path_of(dialogue), person) for person in (alex, sam) * 3]
    assert all(connected for _ws, connected, _code in sockets)
    assert made == []  # the one shared client did it all
    assert socket_cache() is shared
    for ws, _connected, _code in sockets:
        await ws.disconnect()


@pytestmark_sockets
async def test_a_flood_of_snapshot_requests_makes_at_most_one_render_a_second(
    dialogue, alex, monkeypatch
):
    ws, _, _ = await open_socket(path_of(dialogue), alex)
    await receive_until(ws, 'data-kind="snapshot"')
    await drain(ws)
    renders = []
    original = push.render_snapshot

    def counted(**kwargs):
        renders.append(1)
        return original(**kwargs)

    monkeypatch.setattr(push, "render_snapshot", counted)
    for _ in range(20):
        await ws.send_to(text_data=json.dumps({"type": "snapshot"}))
    await receive_until(ws, 'data-kind="snapshot"')
    await drain(ws)
    assert 1 <= len(renders) <= 2  # at once, then one for everything asked within the second
    await ws.disconnect()


# --- connecting: one trip to the database, groups joined first -----------------------------


@pytestmark_sockets
async def test_a_partners_socket_connects_with_four_queries_or_three_in_one_database_trip(
    dialogue, alex, sam
):
    # The login (no query where logins are cached: three in all), the user (Channels' auth,
    # one trip), then the session with its partners and this person's turns: access and
    # snapshot from the same read (a second trip). (Before the dialogue has begun, its panel
    # also reads whether both partners are ready.)
    await database_sync_to_async(_accepted)(dialogue, sam)
    ws, tables = await open_socket_reading(path_of(dialogue), alex)
    assert tables == [
        *login_read(),
        "couples_user",
        "dialogues_dialoguesession",
        "dialogues_turn",
    ]
    assert marker(await receive_until(ws, 'id="sync"'))["kind"] == "snapshot"
    await ws.disconnect()


def _saving_while_checking(monkeypatch, *, before_read: bool, **move):
    """The other partner's step saved while a socket checks its access: just before its read,
    or just after it (both are after the socket joined its groups)."""
    original = DialogueConsumer._authorize

    def authorize(consumer):
        if before_read:
            services.move_submit(**move)
        allowed = original(consumer)
        if not before_read:
            services.move_submit(**move)
        return allowed

    monkeypatch.setattr(DialogueConsumer, "_authorize", authorize)


@pytestmark_sockets
@pytest.mark.parametrize("before_read", [True, False], ids=["before-its-read", "after-its-read"])
async def test_a_step_saved_while_a_socket_connects_is_shown_once(
    dialogue, alex, sam, monkeypatch, before_read
):
    _saving_while_checking(
        monkeypatch,
        before_read=before_read,
        session_public_id=dialogue.public_id,
        user=sam,
        move="accept_now",
        token=form_token(),
    )
    ws, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    snapshot = await receive_until(ws, 'id="sync"')
    markers = [marker(snapshot)]
    while not await ws.receive_nothing(timeout=0.5):
        message = await ws.receive_from()
        if 'id="sync"' in message:
            markers.append(marker(message))
    if before_read:  # in the snapshot, and its group message skipped
        assert markers == [{"kind": "snapshot", "from": 1, "seq": 2}]
    else:  # not in the snapshot: its group message follows it
        assert markers == [
            {"kind": "snapshot", "from": 1, "seq": 1},
            {"kind": "update", "from": 2, "seq": 2},
        ]
    await ws.disconnect()


@pytestmark_sockets
async def test_a_refused_socket_leaves_its_groups_and_its_place_and_hears_nothing_queued(
    dialogue, outsider, sam, settings
):
    settings.IMAGO_MAX_SOCKETS_PER_PERSON = 2
    settings.IMAGO_MAX_SOCKETS_PER_LOGIN = 2
    for _ in range(3):  # more refusals than places: each gave its place back
        _ws, connected, code = await open_socket(path_of(dialogue), outsider)
        assert not connected and code == 4403
    # A step after the refusals reaches no one it was refused to (the group forgot them).
    await submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    channels = await forget_group(dialogue.group_name)
    await remember_group(dialogue.group_name, channels)
    assert channels == set()
    ws, connected, _ = await open_socket("/ws/home/", outsider)  # a place of their own left
    assert connected
    await ws.disconnect()


@pytestmark_sockets
@pytest.mark.parametrize("public_id", ["x" * 65, "with space", "ünïcode", "a.b", "%00"])
async def test_a_socket_for_a_malformed_dialogue_id_is_refused_without_a_query(
    dialogue, alex, public_id
):
    login = await logged_in(alex)
    with QueriesInEveryThread() as seen:
        _ws, connected, code = await open_socket(f"/ws/dialogues/{public_id}/", same_login_as=login)
    assert not connected and code == 4403
    assert "dialogues_dialoguesession" not in seen.tables()


async def test_a_sockets_tick_does_not_queue_behind_the_database_thread():
    """A socket marks its partner's page open and reads when it last did, every minute: in a
    pool thread, never on the worker's one database thread, busy with everyone's moves."""
    import asyncio

    from asgiref.sync import sync_to_async

    from live import session_limits

    release = threading.Event()
    busy = asyncio.ensure_future(sync_to_async(release.wait)())  # the database thread, held
    try:
        key = "a-login-key"
        await asyncio.wait_for(session_limits.live_mark(key), timeout=2)
        assert await asyncio.wait_for(session_limits.alive_seen(key), timeout=2) is not None
    finally:
        release.set()
        await busy
