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
    os.environ.setdefault("DEBUG", "1")
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
    args = parser.parse_args()
    steps = max(10, min(args.steps, 2000))
    setup()

    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from couples.models import Couple, Membership, User
    from dialogues import push, services
    from dialogues.models import DialogueSession
    from dialogues.selectors import FACILITATOR
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
    from django.utils import timezone

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
    # The loop: send -> mirror -> not quite -> mirror -> not quite -> ... (as the benchmark).
    plan = [(alex, "send", {"text": "When the week gets busy I feel far from you."})]
    cycle = [
        (sam, "mirror", {"text": "If I got it, you feel far from me when the week is busy."}),
        (alex, "not_quite", {"text": "Not quite: it's the evenings most of all."}),
    ]

    def endless():
        yield plan[0]
        while True:
            yield from cycle

    script = endless()
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
            result = services.move_submit(
                session_public_id=session.public_id,
                user=user,
                move=name,
                payload=payload,
                token=secrets.token_urlsafe(16),
            )
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
    pg_per_step = (
        (pg_after - pg_before) * 1000 / steps
        if pg_before is not None and pg_after is not None and connection.vendor == "postgresql"
        else None
    )
    # The HTTP fallback: the same moves through Django's whole request path.
    clients = {}
    for person in people:
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

    for profiled, top in ((profile, args.profile), (page_profile, args.profile_page)):
        if profiled is not None:
            import pstats

            stats = pstats.Stats(profiled).strip_dirs()
            stats.sort_stats("cumulative").print_stats(top)
            stats.sort_stats("tottime").print_stats(top)

    DialogueSession.objects.filter(pk=session.pk).delete()
    from django.db import transaction

    with transaction.atomic():
        therapist_services.therapist_links_end_for(therapist=therapist, reason="deleted")
    Membership.objects.filter(couple=couple).delete()
    couple.delete()
    User.objects.filter(email__startswith=f"stepcost-{run}-").delete()


if __name__ == "__main__":
    main()
