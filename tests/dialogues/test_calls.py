"""A call beside the dialogue: its signalling over the dialogue and console sockets (addressed to
one peer, only among the people of that dialogue, refused clearly when it can't be), and the
ICE servers with coturn's time-limited credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.db import connections

from dialogues import calls, services
from live import clock
from tests.factories import TherapistFactory
from tests.helpers import form_token
from tests.sockets import QueriesInEveryThread, console_path, open_socket, path_of
from therapists import services as therapist_services

SDP = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
CANDIDATE = {
    "candidate": "candidate:1 1 udp 2122260223 127.0.0.1 50000 typ host",
    "sdpMid": "0",
    "sdpMLineIndex": 0,
}


# --- ICE servers and coturn's credentials (no sockets) ------------------------------------


def test_turn_credentials_are_coturns_rest_api_hmac():
    # Computed by hand: echo -n "1767225600:4f2a9c" | openssl dgst -sha1 -hmac \
    #   "north-wind-secret" -binary | base64
    username, credential = calls.turn_credentials(
        secret="north-wind-secret", expires=1767225600, opaque="4f2a9c"
    )
    assert username == "1767225600:4f2a9c"
    assert credential == "tntyihlT3rPP8ejNeCS50WWDFdY="


def test_ice_config_gives_turn_credentials_valid_for_hours_not_days(settings):
    settings.IMAGO_STUN_URLS = ["stun:turn.example.org:3478"]
    settings.IMAGO_TURN_URLS = ["turn:turn.example.org:3478?transport=udp"]
    settings.IMAGO_TURN_SECRET = "north-wind-secret"
    settings.IMAGO_TURN_TTL_HOURS = 6
    moment = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
    clock.clock_set(moment)
    try:
        config = calls.ice_config()
    finally:
        clock.clock_set(None)
    stun, turn = config["iceServers"]
    assert stun == {"urls": ["stun:turn.example.org:3478"]}
    expires, opaque = turn["username"].split(":")
    assert int(expires) == int((moment + timedelta(hours=6)).timestamp())
    assert len(opaque) == 16 and "@" not in opaque  # names no one
    expected = base64.b64encode(
        hmac.new(b"north-wind-secret", turn["username"].encode(), hashlib.sha1).digest()
    ).decode()
    assert turn["credential"] == expected
    assert config["iceTransportPolicy"] == "all"


def test_ice_config_caps_a_days_long_ttl_at_a_day_and_has_no_turn_without_a_secret(settings):
    settings.IMAGO_TURN_URLS = ["turn:turn.example.org:3478"]
    settings.IMAGO_TURN_SECRET = ""
    assert calls.ice_config()["iceServers"] == []
    settings.IMAGO_TURN_SECRET = "s"
    settings.IMAGO_TURN_TTL_HOURS = 24 * 30
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    clock.clock_set(moment)
    try:
        (turn,) = calls.ice_config()["iceServers"]
    finally:
        clock.clock_set(None)
    assert int(turn["username"].split(":")[0]) == int((moment + timedelta(hours=24)).timestamp())


@pytest.mark.parametrize(
    "frame",
    [
        {"call": "ring"},
        {"call": "join", "media": "screen"},
        {"call": "offer", "to": "x", "sdp": SDP},
        {"call": "offer", "to": "a" * 24},
        {"call": "offer", "to": "a" * 24, "sdp": ""},
        {"call": "offer", "to": "a" * 24, "sdp": "v=0\x00"},
        {"call": "answer", "to": "a" * 24, "sdp": ["v=0"]},
        {"call": "ice", "to": "a" * 24, "candidate": "candidate:1"},
        {"call": "ice", "to": "a" * 24, "candidate": {"candidate": "c"}},
        {"call": "ice", "to": "a" * 24, "candidate": {**CANDIDATE, "sdpMLineIndex": 99}},
        {"call": "ice", "to": "a" * 24, "candidate": {**CANDIDATE, "sdpMLineIndex": True}},
        {"call": "ice", "to": "<b>peer</b>", "candidate": CANDIDATE},
    ],
)
def test_a_malformed_call_frame_is_refused(frame):
    with pytest.raises(calls.Refused) as refused:
        calls.frame_clean(frame)
    assert refused.value.code == "malformed"


def test_a_frame_keeps_only_its_known_fields():
    clean = calls.frame_clean(
        {"call": "ice", "to": "a" * 24, "candidate": {**CANDIDATE, "extra": "x"}, "html": "<b>"}
    )
    assert clean == {"call": "ice", "to": "a" * 24, "candidate": CANDIDATE}
    end = calls.frame_clean({"call": "ice", "to": "a" * 24, "candidate": None})
    assert end == {"call": "ice", "to": "a" * 24, "candidate": None}  # the end of candidates


def test_an_oversized_description_is_refused_as_too_large():
    with pytest.raises(calls.Refused) as refused:
        calls.frame_clean({"call": "offer", "to": "a" * 24, "sdp": "x" * 16_001})
    assert refused.value.code == "too_large"


# --- signalling over the sockets ----------------------------------------------------------


@pytest.fixture(autouse=True)
async def _close_the_sync_threads_connections():
    yield
    await sync_to_async(connections.close_all)()


@pytest.fixture
def live(link, dialogue, alex, sam):
    """A live dialogue (Sam accepted), Alex and Sam's linked therapist consenting."""
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", at=1, token=form_token()
    )
    dialogue.refresh_from_db()
    return dialogue


async def calls_seen(ws, timeout: float = 0.3) -> list[dict]:
    """Every call frame the socket received until it went quiet (HTML swaps skipped)."""
    out = []
    while not await ws.receive_nothing(timeout=timeout):
        message = await ws.receive_output()
        if message["type"] == "websocket.close":
            out.append({"closed": message.get("code")})
            break
        text = message.get("text", "")
        if text.startswith("{"):
            out.append(json.loads(text))
    return out


async def call_frame(ws, kind: str, limit: int = 20) -> dict:
    """The next call frame of this kind (others skipped)."""
    for _ in range(limit):
        text = await ws.receive_from(timeout=3)
        if text.startswith("{"):
            frame = json.loads(text)
            if frame.get("call") == kind:
                return frame
    raise AssertionError(f"never received a {kind!r} call frame")


async def send(ws, **frame) -> None:
    await ws.send_to(text_data=json.dumps({"type": "call", **frame}))


async def joined(ws, media: str = "video") -> str:
    """Join the call on this socket; its peer id."""
    await send(ws, call="join", media=media)
    await call_frame(ws, "ice-config")
    roster = await call_frame(ws, "roster")
    assert roster["you"]
    return roster["you"]


async def three_in_a_call(live, alex, sam, therapist):
    a, _, _ = await open_socket(path_of(live), alex)
    s, _, _ = await open_socket(path_of(live), sam)
    t, connected, _ = await open_socket(console_path(live), therapist)
    assert connected
    ids = {}
    for name, ws in (("a", a), ("s", s), ("t", t)):
        ids[name] = await joined(ws)
    for ws in (a, s, t):
        await calls_seen(ws)
    return (a, s, t), ids


@pytest.mark.django_db(transaction=True)
async def test_joining_gives_the_ice_servers_and_everyone_on_the_dialogue_sees_who_is_in_it(
    live, alex, sam, therapist, settings
):
    settings.IMAGO_TURN_URLS = ["turn:127.0.0.1:3478"]
    settings.IMAGO_TURN_SECRET = "north-wind-secret"
    a, _, _ = await open_socket(path_of(live), alex)
    s, _, _ = await open_socket(path_of(live), sam)
    t, _, _ = await open_socket(console_path(live), therapist)
    await calls_seen(s)
    await send(a, call="join", media="audio")
    config = await call_frame(a, "ice-config")
    (turn,) = config["config"]["iceServers"]
    assert turn["username"].count(":") == 1 and turn["credential"]
    mine = await call_frame(a, "roster")
    assert mine["peers"] == [] and mine["you"]
    for ws in (s, t):  # not in the call, but shown who is; never given the credentials
        seen = await calls_seen(ws)
        assert [f["call"] for f in seen] == ["roster"]
        assert seen[0]["you"] is None
        assert seen[0]["peers"] == [
            {"peer": mine["you"], "name": "Alex", "role": "partner", "media": "audio"}
        ]
    # A page opened later learns who is in the call from those in it.
    s2, _, _ = await open_socket(path_of(live), sam)
    roster = await call_frame(s2, "roster")
    assert [p["name"] for p in roster["peers"]] == ["Alex"]
    for ws in (a, s, t, s2):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_an_offer_answer_and_candidates_reach_only_their_addressed_peer(
    live, alex, sam, therapist
):
    (a, s, t), ids = await three_in_a_call(live, alex, sam, therapist)
    await send(a, call="offer", to=ids["s"], sdp=SDP)
    offer = await call_frame(s, "offer")
    assert offer == {"call": "offer", "sdp": SDP, "from": ids["a"]}
    await send(s, call="answer", to=ids["a"], sdp=SDP)
    assert (await call_frame(a, "answer"))["from"] == ids["s"]
    await send(t, call="ice", to=ids["a"], candidate=CANDIDATE)
    ice = await call_frame(a, "ice")
    assert ice == {"call": "ice", "candidate": CANDIDATE, "from": ids["t"]}
    # Nobody else heard any of it.
    assert await calls_seen(t) == []
    assert await calls_seen(s) == []
    assert await calls_seen(a) == []
    for ws in (a, s, t):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_relaying_a_call_frame_reads_nothing_from_the_database(live, alex, sam, therapist):
    (a, s, t), ids = await three_in_a_call(live, alex, sam, therapist)
    with QueriesInEveryThread() as seen:
        await send(a, call="offer", to=ids["t"], sdp=SDP)
        await call_frame(t, "offer")
        await send(t, call="leave")
        await call_frame(a, "roster")
    assert seen.tables() == []
    for ws in (a, s, t):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("who", ["outsider", "unlinked", "staff", "unverified_therapist"])
async def test_nobody_outside_the_dialogue_hears_its_call_or_reaches_it(
    who, live, alex, sam, therapist, outsider, staff, unverified_therapist
):
    (a, s, t), ids = await three_in_a_call(live, alex, sam, therapist)
    person = (
        await database_sync_to_async(TherapistFactory)(
            email="unlinked@example.com", display_name="Dr. Unlinked"
        )
        if who == "unlinked"
        else {"outsider": outsider, "staff": staff, "unverified_therapist": unverified_therapist}[
            who
        ]
    )
    for path in (path_of(live), console_path(live)):
        ws, connected, code = await open_socket(path, person)
        assert not connected and code in (4401, 4403)
        await ws.disconnect()
    anonymous, connected, _ = await open_socket(path_of(live), None)
    assert not connected
    await anonymous.disconnect()
    # The outsider's own dialogue's call is another call: Alex's peer is not there.
    if who == "outsider":
        theirs = await database_sync_to_async(services.dialogue_start)(
            user=outsider, kind="intentional", topic="Evenings"
        )
        o, connected, _ = await open_socket(path_of(theirs), outsider)
        assert connected
        await joined(o)
        await send(o, call="offer", to=ids["a"], sdp=SDP)
        refused = await call_frame(o, "refused")
        assert refused["reason"] == "no_such_peer"
        assert await calls_seen(o) == []
        await o.disconnect()
    for ws in (a, s, t):
        assert await calls_seen(ws) == []  # nothing reached the three; nothing left them
    for ws in (a, s, t):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "frame,reason",
    [
        ({"call": "offer", "to": "a" * 24, "sdp": SDP}, "not_in_call"),
        ({"call": "hello"}, "malformed"),
        ({"call": "offer", "to": "<script>", "sdp": SDP}, "malformed"),
        ({"call": "offer", "sdp": "x" * 25_000}, "too_large"),
    ],
)
async def test_a_bad_call_frame_gets_a_clear_refusal_and_reaches_no_one(
    frame, reason, live, alex, sam, therapist
):
    (a, s, t), ids = await three_in_a_call(live, alex, sam, therapist)
    await send(a, call="leave")
    await calls_seen(a)
    for ws in (s, t):
        await calls_seen(ws)
    if frame.get("to") == "a" * 24:
        frame = {**frame, "to": ids["s"]}
    await send(a, **frame)
    refused = await call_frame(a, "refused")
    assert refused["reason"] == reason and refused["message"]
    assert await calls_seen(s) == [] and await calls_seen(t) == []
    for ws in (a, s, t):
        await ws.disconnect()


def names(roster: dict) -> list[str]:
    return sorted(p["name"] for p in roster["peers"])


@pytest.mark.django_db(transaction=True)
async def test_a_peer_who_left_is_no_longer_reachable_and_rejoins_as_a_new_peer(
    live, alex, sam, therapist
):
    (a, s, t), ids = await three_in_a_call(live, alex, sam, therapist)
    await send(s, call="leave")
    assert names(await call_frame(a, "roster")) == ["Dr. Rivera"]
    assert names(await call_frame(t, "roster")) == ["Alex"]
    mine = await call_frame(s, "roster")
    assert mine["you"] is None and names(mine) == ["Alex", "Dr. Rivera"]  # still shown who is
    await send(a, call="offer", to=ids["s"], sdp=SDP)
    assert (await call_frame(a, "refused"))["reason"] == "no_such_peer"
    assert await calls_seen(s) == []
    # Rejoining is a new peer: the others see it, and may address it.
    again = await joined(s)
    assert again != ids["s"]
    assert again in [p["peer"] for p in (await call_frame(a, "roster"))["peers"]]
    await send(a, call="offer", to=again, sdp=SDP)
    assert (await call_frame(s, "offer"))["from"] == ids["a"]
    for ws in (a, s, t):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_second_window_of_someone_in_the_call_is_refused(live, alex, sam):
    a, _, _ = await open_socket(path_of(live), alex)
    await joined(a)
    a2, _, _ = await open_socket(path_of(live), alex)
    await calls_seen(a2)
    await send(a2, call="join")
    assert (await call_frame(a2, "refused"))["reason"] == "elsewhere"
    await send(a, call="join")  # a double click: the call as it is, nothing new
    assert (await call_frame(a, "roster"))["peers"] == []
    for ws in (a, a2):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_burst_of_call_frames_is_refused_beyond_the_limit_and_the_socket_stays(
    live, alex, sam, monkeypatch
):
    monkeypatch.setattr(calls, "CALL_RATE", (3, 10.0))  # the join, then two more
    a, _, _ = await open_socket(path_of(live), alex)
    s, _, _ = await open_socket(path_of(live), sam)
    peer = await joined(s)
    await joined(a)
    await calls_seen(s)
    for _ in range(3):
        await send(a, call="ice", to=peer, candidate=CANDIDATE)
    assert (await call_frame(a, "refused"))["reason"] == "too_many"
    assert len([f for f in await calls_seen(s) if f["call"] == "ice"]) == 2
    await a.send_to(text_data=json.dumps({"type": "ping"}))
    assert "pong" in await a.receive_from(timeout=3)
    for ws in (a, s):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_closed_socket_leaves_the_call(live, alex, sam, therapist):
    (a, s, t), _ids = await three_in_a_call(live, alex, sam, therapist)
    await s.disconnect()
    assert names(await call_frame(a, "roster")) == ["Dr. Rivera"]
    assert names(await call_frame(t, "roster")) == ["Alex"]
    for ws in (a, t):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_withdrawn_consent_ends_the_therapists_call(live, link, alex, sam, therapist):
    (a, s, t), ids = await three_in_a_call(live, alex, sam, therapist)
    await database_sync_to_async(therapist_services.consent_withdraw)(
        user=sam, link_public_id=link.public_id
    )
    assert (await calls_seen(t, timeout=1))[-1] == {"closed": 4403}
    for ws in (a, s):
        assert (
            names(await call_frame(ws, "roster"))
            == ["Alex", "Sam"][(0 if ws is s else 1) : (1 if ws is s else 2)]
        )
    await send(a, call="offer", to=ids["t"], sdp=SDP)
    assert (await call_frame(a, "refused"))["reason"] == "no_such_peer"
    for ws in (a, s, t):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_logout_ends_that_persons_call(live, alex, sam):
    a, _, _ = await open_socket(path_of(live), alex)
    s, _, _ = await open_socket(path_of(live), sam)
    await joined(a)
    await joined(s)
    await calls_seen(a)
    await sync_to_async(s.http_client.post)("/accounts/logout/")
    assert (await calls_seen(s, timeout=1))[-1] == {"closed": 4401}
    assert names(await call_frame(a, "roster")) == []
    for ws in (a, s):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_dialogue_ending_ends_its_call_for_everyone(live, alex, sam, therapist):
    (a, s, t), _ids = await three_in_a_call(live, alex, sam, therapist)
    await database_sync_to_async(services.session_end)(session_public_id=live.public_id, user=sam)
    for ws in (a, s, t):
        assert (await call_frame(ws, "ended"))["message"]
        roster = await call_frame(ws, "roster")
        assert roster == {"call": "roster", "you": None, "open": False, "peers": []}
    await send(a, call="join")
    assert (await call_frame(a, "refused"))["reason"] == "closed"
    for ws in (a, s, t):
        await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_step_costs_the_same_statements_with_or_without_a_call_beside_it(
    dialogue, alex, sam, outsider
):
    from couples.models import User

    pat = await database_sync_to_async(User.objects.get)(email="pat@example.com")
    theirs = await database_sync_to_async(services.dialogue_start)(
        user=outsider, kind="intentional", topic="Evenings"
    )
    seen = {}
    for session, starter, partner, in_call in (
        (dialogue, alex, sam, True),
        (theirs, outsider, pat, False),
    ):
        a, _, _ = await open_socket(path_of(session), starter)
        b, _, _ = await open_socket(path_of(session), partner)
        if in_call:
            await joined(a)
            await joined(b)
        for ws in (a, b):
            await calls_seen(ws)
        frame = {"type": "move", "move": "accept_now", "at": 1, "token": form_token()}
        with QueriesInEveryThread() as queries:
            await b.send_to(text_data=json.dumps(frame))
            for ws in (a, b):
                await ws.receive_from(timeout=3)  # the step, on both pages
        seen[in_call] = queries.tables()
        for ws in (a, b):
            await ws.disconnect()
    assert seen[True] == seen[False] and seen[True]


# --- the pages -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_call_box_is_on_a_live_dialogue_in_the_persons_language_and_asks_nothing(
    live, sam, client_as
):
    sam.language = "es"
    sam.save(update_fields=["language"])
    page = client_as(sam).get(f"/dialogues/{live.public_id}/").content.decode()
    assert "Unirme con cámara" in page and "Unirme solo con audio" in page
    assert "nunca grabada" in page  # peer to peer, never recorded
    assert 'src="/static/js/call.js"' in page or "js/call" in page
    assert "turn:" not in page and "credential" not in page  # ICE servers only on joining


@pytest.mark.django_db
def test_an_ended_dialogue_has_no_call(live, sam, client_as):
    services.session_end(session_public_id=live.public_id, user=sam)
    page = client_as(sam).get(f"/dialogues/{live.public_id}/").content.decode()
    assert "Join with camera" not in page and 'id="call"' not in page


@pytest.mark.django_db(transaction=True)
async def test_a_flood_of_call_frames_closes_the_socket(live, alex, monkeypatch):
    monkeypatch.setattr(calls, "CALL_RATE", (2, 10.0))
    a, _, _ = await open_socket(path_of(live), alex)
    for _ in range(5):
        await send(a, call="leave")
    seen = await calls_seen(a, timeout=1)
    assert [f.get("reason") for f in seen[:-1]] == ["too_many", "too_many"]
    assert seen[-1] == {"closed": 4429}
    await a.disconnect()
