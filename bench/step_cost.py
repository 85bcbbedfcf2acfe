#!/usr/bin/env python
"""What one step costs the server, in this process, in about a minute.

Run by hand, never from the test suite (figures go to docs/performance.md with the command):

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imago_stepcost .venv/bin/python \
        bench/step_cost.py --steps 300

It makes its own couple, therapist and dialogue in that database (migrating it first), then
times the parts of one step the way the server runs them:

- "move": the one lean transaction (lock, token check, insert, update) plus, after commit,
  rendering the step once per audience (partner a, partner b, the facilitators);
- "post": the same move as the browser's HTTP fallback sends it (Django's middleware, session,
  auth, CSRF), through the test client;
- "socket": the same move as the page sends it, a frame on the mover's socket, through the
  server's ASGI application and the configured channel layer (with REDIS_URL: Redis pub/sub,
  encrypted), until all three sockets (both partners' pages, the therapist's console) have sent
  it; `--parts` times each part of it where it runs (thread CPU and wall, µs);
- "forward": what a socket that follows does with the step (picks its audience's fragment);
- "snapshot": what a (re)connecting socket renders from the database;
- "page": a partner's whole dialogue page over HTTP, when it has just begun and at the end;
- "connect": a whole socket connect through the ASGI stack the server runs (origin check,
  session and user, access, places, groups, snapshot, presence), for a partner's page and a
  therapist's console, on the same dialogue.

CPU time is this process's (time.process_time); the database server's own CPU is not in it
(the full benchmark, bench/benchmark.py, measures the whole machine). Queries are counted.
The data it made is deleted at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imago_site.settings")
    # As production runs (DEBUG=1 would send every query through Django's debug cursor), with
    # the bench's own keys (its data is made and deleted here) and plain HTTP and static files.
    os.environ.setdefault("DEBUG", "0")
    os.environ.setdefault("SECRET_KEY", "bench-step-cost-" + "0" * 40)
    os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "YmVuY2gtc3RlcC1jb3N0LWtleS0wMDAwMDAwMDAwMDA=")
    os.environ.setdefault("HTTPS", "0")
    os.environ.setdefault("COMPRESS_STATIC", "0")
    import logging

    import django

    django.setup()
    logging.getLogger("imago").setLevel(logging.WARNING)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def postgres_cpu_seconds() -> float | None:
    """User + system CPU of every PostgreSQL process on this machine (None if none is here)."""
    total, found = 0.0, False
    ticks = os.sysconf("SC_CLK_TCK")
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)
            if "postgres" not in fields[0]:
                continue
            values = fields[1].split()
            total += (int(values[11]) + int(values[12])) / ticks
            found = True
        except (OSError, IndexError, ValueError):
            continue
    return total if found else None


def summary(name: str, cpu_ms: list[float], queries: list[int]) -> str:
    cpu_ms = sorted(cpu_ms)
    p99 = cpu_ms[min(len(cpu_ms) - 1, int(len(cpu_ms) * 0.99))]
    return (
        f"{name:9} median {statistics.median(cpu_ms):6.2f} ms  p99 {p99:6.2f} ms  "
        f"queries {statistics.median(queries):4.0f}"
    )


class _QueryCount:
    """Queries run by any thread (a socket's database work runs in a database thread, which has
    its own connection, out of CaptureQueriesContext's sight)."""

    count = 0

    @classmethod
    def install(cls) -> None:
        from django.db.backends import utils

        original = utils.CursorWrapper.execute  # CursorDebugWrapper's calls it too

        def execute(self, *args, **kwargs):
            cls.count += 1
            return original(self, *args, **kwargs)

        utils.CursorWrapper.execute = execute  # type: ignore[method-assign]


def connects(*, paths: dict[int, str], people: list, rounds: int = 60):
    """CPU (ms) and queries of whole socket connects, per person, through the server's ASGI
    application: connect, receive until the snapshot, disconnect (not timed)."""
    import asyncio

    from channels.db import database_sync_to_async
    from channels.testing import WebsocketCommunicator
    from django.test import Client

    from imago_site.asgi import application

    _QueryCount.install()

    def cookie_of(person) -> bytes:
        client = Client()
        client.force_login(person)
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    async def run():
        cpu: dict[str, list[float]] = {}
        queries: dict[str, list[int]] = {}
        for person in people:
            cookie = await database_sync_to_async(cookie_of)(person)
            headers = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
            headers.append((b"cookie", cookie))
            name = person.display_name
            cpu[name], queries[name] = [], []
            for _ in range(rounds):
                communicator = WebsocketCommunicator(application, paths[person.pk], headers=headers)
                before, counted = time.process_time(), _QueryCount.count
                connected, code = await communicator.connect(timeout=10)
                assert connected, code
                while 'data-kind="snapshot"' not in await communicator.receive_from(timeout=10):
                    pass
                cpu[name].append((time.process_time() - before) * 1000)
                queries[name].append(_QueryCount.count - counted)
                await communicator.disconnect()
        return cpu, queries

    return asyncio.run(run())


# --- where a socket move's time goes (--parts) -----------------------------------------------


class _Parts:
    """Thread CPU and wall time of the parts of a step, summed per step (a part can run more
    than once in a step: one render per audience, one decryption per socket)."""

    def __init__(self) -> None:
        import collections
        import threading

        self.lock = threading.Lock()
        self.now: collections.Counter = collections.Counter()
        self.steps: list[collections.Counter] = []

    def add(self, name: str, cpu: float, wall: float) -> None:
        with self.lock:
            self.now[name + "\x00cpu"] += cpu * 1e6
            self.now[name + "\x00wall"] += wall * 1e6
            self.now[name + "\x00n"] += 1

    def step_done(self) -> None:
        import collections

        with self.lock:
            self.steps.append(self.now)
            self.now = collections.Counter()

    def wrap(self, owner, attribute: str, name) -> None:
        """Time `owner.attribute` (a function or method) as part `name` (or name(args))."""
        import functools
        import inspect

        original = getattr(owner, attribute)
        parts = self

        if inspect.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(*args, **kwargs):
                cpu, wall = time.thread_time(), time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    label = name(*args) if callable(name) else name
                    parts.add(label, time.thread_time() - cpu, time.perf_counter() - wall)

            setattr(owner, attribute, timed_async)
            return

        @functools.wraps(original)
        def timed(*args, **kwargs):
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                label = name(*args) if callable(name) else name
                parts.add(label, time.thread_time() - cpu, time.perf_counter() - wall)

        setattr(owner, attribute, timed)

    def table(self, order: list[str]) -> str:
        import statistics

        names = {key.split("\x00")[0] for step in self.steps for key in step}
        rows = [f"{'part':58} {'CPU µs':>8} {'wall µs':>8} {'times':>5}"]
        for name in [*order, *sorted(names - set(order))]:
            if name not in names:
                continue
            cpu = statistics.median(s[name + "\x00cpu"] for s in self.steps)
            wall = statistics.median(s[name + "\x00wall"] for s in self.steps)
            times = statistics.median(s[name + "\x00n"] for s in self.steps)
            rows.append(f"{name:58} {cpu:8.0f} {wall:8.0f} {times:5.0f}")
        return "\n".join(rows)


def _statement(cursor, sql, *args) -> str:
    words = sql.split(None, 3)
    if sql.startswith("SELECT") and "FOR UPDATE" in sql:
        return "  SQL: lock the session (SELECT ... FOR UPDATE)"
    if sql.startswith("SELECT") and "client_token" in sql:
        return "  SQL: the form's token (SELECT turn)"
    if words[0] == "INSERT":
        return "  SQL: insert the turn"
    if words[0] == "UPDATE":
        return "  SQL: update the session"
    return f"  SQL: other {words[0]}"


PART_ORDER = [
    "frame: JSON parsed, payload read",
    "socket: the move frame, handled",
    " service: move_submit (in the database thread)",
    "  the move's form read (decide_move)",
    "  lock + access (_locked, with its SQL)",
    "  SQL: lock the session (SELECT ... FOR UPDATE)",
    "  SQL: the form's token (SELECT turn)",
    "  the turn built and inserted (with its SQL)",
    "  SQL: insert the turn",
    "  the new state applied",
    "  SQL: update the session",
    "  what the render needs, read ahead",
    "  the render handed to its thread",
    "  COMMIT",
    "  render: partner a",
    "  render: partner b",
    "  render: facilitator",
    "  after commit: fragments awaited, message handed over",
    "publish: group_send (serialize, encrypt, PUBLISH)",
    "  msgpack + encrypt (Fernet)",
    "receive: decrypt + unpack (per socket)",
    "receive: its fragment picked and sent (per socket)",
]


def socket_moves(*, plan, paths: dict[int, str], people: list, steps: int, parts: bool):
    """Moves sent as the page sends them, on the mover's own socket, through the server's ASGI
    application and the configured channel layer, to every socket of the dialogue (both
    partners' pages and the therapist's console). Per step: this process's CPU and wall time
    from the frame sent to the last of the three sockets having it; with `parts`, each part
    timed where it runs (thread CPU and wall, µs)."""
    import asyncio
    import json

    from channels.db import database_sync_to_async
    from channels.layers import get_channel_layer
    from channels.testing import WebsocketCommunicator
    from django.test import Client

    import live
    from dialogues import consumers, push, services
    from imago_site.asgi import application
    from live import consumer

    consumer.RATE_LIMIT = (10**6, 10.0)  # a person's 30 frames in 10 s: the bench sends more
    timer = _Parts()
    if parts:
        from django.db.backends import utils
        from django.db.backends.base.base import BaseDatabaseWrapper

        layer = get_channel_layer()
        serializer = type(getattr(layer, "_serializer", None) or layer)
        timer.wrap(consumers.DialogueConsumer, "move", "socket: the move frame, handled")
        timer.wrap(services, "move_submit", " service: move_submit (in the database thread)")
        timer.wrap(services, "decide_move", "  the move's form read (decide_move)")
        timer.wrap(services, "_locked", "  lock + access (_locked, with its SQL)")
        timer.wrap(utils.CursorWrapper, "execute", _statement)
        timer.wrap(services, "_append_turn", "  the turn built and inserted (with its SQL)")
        timer.wrap(services, "_apply", "  the new state applied")
        timer.wrap(BaseDatabaseWrapper, "commit", "  COMMIT")
        timer.wrap(
            push,
            "_audience",
            lambda session, turn, viewer, role, after: (
                "  render: " + (f"partner {session.slot_of(viewer)}" if role == "partner" else role)
            ),
        )
        timer.wrap(services, "_publish", "  after commit: fragments awaited, message handed over")
        timer.wrap(live, "_publish", "publish: group_send (serialize, encrypt, PUBLISH)")
        if hasattr(serializer, "serialize"):
            timer.wrap(serializer, "serialize", "  msgpack + encrypt (Fernet)")
            timer.wrap(serializer, "deserialize", "receive: decrypt + unpack (per socket)")
        timer.wrap(
            consumers.DialogueConsumer,
            "dialogue_changed",
            "receive: its fragment picked and sent (per socket)",
        )
        frame_text = json.dumps(
            {"type": "move", "move": "mirror", "token": "x" * 22, "text": "If I got it, " * 4}
        )
        for _ in range(2000):  # parse + validate, alone (a few µs: measured in a loop)
            cpu = time.thread_time()
            frame = json.loads(frame_text)
            consumers.move_posted(frame)
            timer.now["frame: JSON parsed, payload read\x00cpu"] += (time.thread_time() - cpu) * 1e6
        for key in list(timer.now):
            timer.now[key] /= 2000
        timer.now["frame: JSON parsed, payload read\x00n"] = 1
        frame_parts = dict(timer.now)
        timer.now.clear()

    def cookie_of(person) -> bytes:
        client = Client()
        client.force_login(person)
        return f"sessionid={client.cookies['sessionid'].value}".encode()

    async def run():
        sockets = {}
        for person in people:
            cookie = await database_sync_to_async(cookie_of)(person)
            headers = [(b"host", b"localhost"), (b"origin", b"http://localhost")]
            headers.append((b"cookie", cookie))
            socket = WebsocketCommunicator(application, paths[person.pk], headers=headers)
            connected, code = await socket.connect(timeout=10)
            assert connected, code
            while 'data-kind="snapshot"' not in await socket.receive_from(timeout=10):
                pass
            sockets[person.pk] = socket
        await asyncio.sleep(0.2)  # presence settles
        for socket in sockets.values():
            while not await socket.receive_nothing(timeout=0.05):
                await socket.receive_from()
        cpu_ms, wall_ms = [], []
        seq = None
        for user, name, payload in plan(steps):
            timer.now.clear()
            frame = {"type": "move", "move": name, "token": secrets.token_urlsafe(16), **payload}
            before, wall = time.process_time(), time.perf_counter()
            await sockets[user.pk].send_to(text_data=json.dumps(frame))
            for socket in sockets.values():
                while True:
                    html = await socket.receive_from(timeout=10)
                    found = re.search(
                        r'id="sync"[^>]*data-kind="update"[^>]*data-seq="(\d+)"', html
                    )
                    if found and (seq is None or int(found.group(1)) > seq):
                        break
            seq = int(found.group(1))
            cpu_ms.append((time.process_time() - before) * 1000)
            wall_ms.append((time.perf_counter() - wall) * 1000)
            await asyncio.sleep(0.02)  # presence, typing and the like: not this step's
            for socket in sockets.values():
                while not await socket.receive_nothing(timeout=0.01):
                    await socket.receive_from()
            if parts:
                timer.now.update(frame_parts)
            timer.step_done()
        for socket in sockets.values():
            await socket.disconnect()
        return cpu_ms, wall_ms

    cpu_ms, wall_ms = asyncio.run(run())
    return cpu_ms, wall_ms, timer


def move_script(alex, sam):
    """The bench's moves, (person, move, payload), endlessly: Alex sends, then Sam mirrors and
    Alex says "not quite", over and over (each move changes the step)."""
    yield alex, "send", {"text": "When the week gets busy I feel far from you."}
    while True:
        yield sam, "mirror", {"text": "If I got it, you feel far from me when the week is busy."}
        yield alex, "not_quite", {"text": "Not quite: it's the evenings most of all."}


def move_made(session, user, name: str, payload: dict):
    """One move through the one door, as a page's form sends it (a fresh token)."""
    from dialogues import services

    return services.move_submit(
        session_public_id=session.public_id,
        user=user,
        move=name,
        payload=payload,
        token=secrets.token_urlsafe(16),
    )


def pages_open(session, partners, *, console: bool = True) -> None:
    """As if the partners' pages (and the therapist's console) were open on the dialogue:
    each audience's place held (live/places.py), so a move made here in this process, with
    no socket, is rendered for all of them, as over the socket."""
    from live import dialogue_group, places

    group = dialogue_group(session.public_id)
    for audience in [str(p.pk) for p in partners] + (["facilitator"] if console else []):
        key = places.listening_key(group, audience)
        places.claim([(key, places.NO_LIMIT)], channel=f"bench.{audience}")


def dialogue_for_bench():
    """A couple (Alex, Sam) ready to talk, their therapist (Dr. T, linked with both partners'
    consent, with a second factor) and a dialogue accepted for now: ([alex, sam, therapist],
    the session, a function deleting all of it)."""
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.db import transaction
    from django.utils import timezone

    from couples.models import Couple, Membership, User
    from dialogues import services
    from dialogues.models import DialogueSession
    from safety import services as safety_services
    from therapists import services as therapist_services

    run = secrets.token_hex(4)
    people = [
        User.objects.create_user(
            email=f"stepcost-{run}-{who}@bench.invalid", password="x", display_name=who
        )
        for who in ("Alex", "Sam")
    ]
    therapist = User.objects.create_user(
        email=f"stepcost-{run}-t@bench.invalid",
        password="x",
        display_name="Dr. T",
        kind=User.Kind.THERAPIST,
    )
    therapist.therapist_verified_at = timezone.now()
    therapist.save()
    TOTP.activate(therapist, generate_totp_secret())  # no console without the second factor
    couple = Couple.objects.create(created_by=people[0])
    for person in people:
        Membership.objects.create(couple=couple, user=person)
        safety_services.screening_save(user=person, answers={"afraid": "no"})
        safety_services.screening_set_ready(user=person, ready=True)
    link = therapist_services.link_code_issue(therapist=therapist, token=secrets.token_urlsafe(16))
    therapist_services.link_code_redeem(user=people[0], code=link.code)
    therapist_services.consent_give(user=people[1], link_public_id=link.public_id)
    alex, sam = people
    session = services.dialogue_start(user=alex, kind="intentional", topic="Sunday mornings")
    services.move_submit(
        session_public_id=session.public_id,
        user=sam,
        move="accept_now",
        token=secrets.token_urlsafe(16),
    )

    def cleanup() -> None:
        DialogueSession.objects.filter(pk=session.pk).delete()
        with transaction.atomic():
            therapist_services.therapist_links_end_for(therapist=therapist, reason="deleted")
        Membership.objects.filter(couple=couple).delete()
        couple.delete()
        User.objects.filter(email__startswith=f"stepcost-{run}-").delete()

    return [alex, sam, therapist], session, cleanup


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=300, help="steps to time (max 2000)")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="print the N costliest functions of a move",
    )
    parser.add_argument(
        "--profile-page",
        type=int,
        default=0,
        metavar="N",
        help="print the N costliest functions of the long page",
    )
    parser.add_argument(
        "--parts",
        action="store_true",
        help="time each part of a socket move where it runs (µs), as a table",
    )
    args = parser.parse_args()
    steps = max(10, min(args.steps, 2000))
    setup()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from dialogues import push
    from dialogues.models import DialogueSession
    from dialogues.selectors import FACILITATOR

    (alex, sam, therapist), session, cleanup = dialogue_for_bench()
    # The loop: send -> mirror -> not quite -> mirror -> not quite -> ... (as the benchmark).
    script = move_script(alex, sam)
    # Connecting to the dialogue as the benchmark's sockets do: just begun (a few turns).
    cpu_connect, q_connect = connects(
        paths={
            alex.pk: f"/ws/dialogues/{session.public_id}/",
            therapist.pk: f"/ws/therapist/dialogues/{session.public_id}/",
        },
        people=[alex, therapist],
    )

    page_client = Client(HTTP_HOST="localhost")
    page_client.force_login(alex)
    page_url = f"/dialogues/{session.public_id}/"

    def pages(rounds: int = 40, profile=None) -> tuple[list[float], list[int]]:
        """Alex's whole dialogue page over HTTP (middleware, session, auth, the page)."""
        cpu, queries = [], []
        for i in range(rounds):
            if profile is not None and i >= 5:
                profile.enable()
            before = time.process_time()
            with CaptureQueriesContext(connection) as captured:
                response = page_client.get(page_url)
            cpu.append((time.process_time() - before) * 1000)
            if profile is not None:
                profile.disable()
            queries.append(len(captured))
            assert response.status_code == 200, response.status_code
        return cpu[5:], queries[5:]  # the first few fill the worker's caches

    cpu_page_short, q_page_short = pages()

    def moves(n):
        for _ in range(n):
            yield next(script)

    pages_open(session, [alex, sam])  # the move below renders for the three audiences
    cpu_move, q_move = [], []
    cpu_forward = []
    profile = None
    if args.profile:
        import cProfile

        profile = cProfile.Profile()
    pg_before = postgres_cpu_seconds()
    for user, name, payload in moves(steps):
        if profile is not None:
            profile.enable()
        before = time.process_time()
        with CaptureQueriesContext(connection) as captured:
            result = move_made(session, user, name, payload)
        cpu_move.append((time.process_time() - before) * 1000)
        if profile is not None:
            profile.disable()
        q_move.append(len(captured))
        assert result.fragments, "the step was not rendered once per audience"
        event = {"seq": result.session.seq, "prev": result.session.seq - 1}
        before = time.process_time()
        for audience in ("a", "b", FACILITATOR):  # each socket picks its own, sends it as is
            fragment = result.fragments[audience]
            html = fragment["html"] + fragment["panel"]
            assert event["prev"] + 1 == event["seq"] and html
        cpu_forward.append((time.process_time() - before) * 1000 / 3)

    pg_after = postgres_cpu_seconds()
    # The same moves as the page sends them: a frame on the mover's socket, to three sockets.
    cpu_socket, wall_socket, parts = socket_moves(
        plan=moves,
        paths={
            alex.pk: f"/ws/dialogues/{session.public_id}/",
            sam.pk: f"/ws/dialogues/{session.public_id}/",
            therapist.pk: f"/ws/therapist/dialogues/{session.public_id}/",
        },
        people=[alex, sam, therapist],
        steps=min(steps, 200),
        parts=args.parts,
    )
    pg_per_step = (
        (pg_after - pg_before) * 1000 / steps
        if pg_before is not None and pg_after is not None and connection.vendor == "postgresql"
        else None
    )
    # The HTTP fallback: the same moves through Django's whole request path.
    clients = {}
    for person in (alex, sam):
        client = Client(enforce_csrf_checks=False, HTTP_HOST="localhost")
        client.force_login(person)
        clients[person.pk] = client
    cpu_post, q_post = [], []
    url = f"/dialogues/{session.public_id}/move/"
    for user, name, payload in moves(min(steps, 200)):
        before = time.process_time()
        with CaptureQueriesContext(connection) as captured:
            response = clients[user.pk].post(
                url,
                {"move": name, "token": secrets.token_urlsafe(16), **payload},
                HTTP_HX_REQUEST="true",
            )
        cpu_post.append((time.process_time() - before) * 1000)
        q_post.append(len(captured))
        assert response.status_code == 200, response.status_code

    cpu_snap, q_snap = [], []
    for _ in range(50):
        before = time.process_time()
        with CaptureQueriesContext(connection) as captured:
            push.render_snapshot(public_id=session.public_id, user=alex)
        cpu_snap.append((time.process_time() - before) * 1000)
        q_snap.append(len(captured))
    turns = DialogueSession.objects.get(pk=session.pk).seq
    page_profile = None
    if args.profile_page:
        import cProfile

        page_profile = cProfile.Profile()
    cpu_page_long, q_page_long = pages(profile=page_profile)

    print(f"database: {connection.vendor}; steps timed: {steps}; turns at the end: {turns}")
    # The data made above is deleted below, even when a figure fails to print.
    print(summary("move", cpu_move, q_move) + "  (transaction + render for 3 audiences)")
    print(summary("post", cpu_post, q_post) + "  (HTTP fallback, whole request)")
    print(
        summary("socket", cpu_socket, [0] * len(cpu_socket))
        + "  (a move frame to 3 sockets' sends; wall median "
        + f"{statistics.median(wall_socket):.2f} ms)"
    )
    print(summary("forward", cpu_forward, [0] * len(cpu_forward)) + "  (per socket)")
    print(summary("snapshot", cpu_snap, q_snap) + f"  (a {turns}-turn dialogue)")
    print(summary("page", cpu_page_short, q_page_short) + "  (Alex's page, 2 turns, whole request)")
    print(summary("page", cpu_page_long, q_page_long) + f"  (Alex's page, {turns} turns)")
    for (who, cpu), queries in zip(cpu_connect.items(), q_connect.values(), strict=True):
        print(summary("connect", cpu, queries) + f"  ({who}'s socket, 2 turns, with its snapshot)")
    per_step = statistics.median(cpu_move) + 3 * statistics.median(cpu_forward)
    print(f"server CPU per step in Django (move + 3 forwards): {per_step:.2f} ms")
    if pg_per_step is not None:
        print(f"PostgreSQL CPU per step (every postgres process here): {pg_per_step:.2f} ms")

    if args.parts:
        print("\nWhere a socket move's time goes (median per step; µs):")
        print(parts.table(PART_ORDER))

    for profiled, top in ((profile, args.profile), (page_profile, args.profile_page)):
        if profiled is not None:
            import pstats

            stats = pstats.Stats(profiled).strip_dirs()
            stats.sort_stats("cumulative").print_stats(top)
            stats.sort_stats("tottime").print_stats(top)

    cleanup()


if __name__ == "__main__":
    main()
