#!/usr/bin/env python
"""Workshop benchmark: one presenter and N couples (default 60) against a running server
(`make serve`) and its job worker (`manage.py db_worker`). Run by hand, never from the test
suite; see docs/performance.md ("Workshops") for the command.

What one run does, bounded in time (--max-time):

1. Seeds N ready couples and a verified presenter (with a second factor) straight into the
   server's database, a workshop with a practice segment, every couple joined (both
   partners) and checked in; logged-in sessions for the presenter and every partner (the
   bench needs the server's DATABASE_URL and SECRET_KEY, as bench/benchmark.py does).
2. Opens the presenter's board socket and every partner's workshop page socket.
3. Clicks "Start" once over HTTP, as the browser does; the job worker starts every couple's
   dialogue (or the server's request does, right after its commit). Measures the start
   time: the click until the last of the N dialogues exists, and until every partner's
   page socket has received the link to their practice.
4. Every couple then makes a step every --step-every seconds (random offsets) for
   --duration seconds, through the services in this process (the one door; their pushes go
   over the shared channel layer, so the server's board hears them as it would a browser's).
   For every step it measures the board's lag: the step committed until the board socket
   receives that couple's card. Checks no step was lost or duplicated (each dialogue's turns
   against the steps made), and that the board saw a card after every step.
5. Calls the group back over HTTP (--reconvene-at seconds in) and measures the time until
   every practice is paused; then resumes.
6. Prints the start time, the board's p50/p99 lag, the server's CPU (user+sys of the
   processes listening on --port), appends the result to --out, and deletes what it seeded
   (unless --keep-data).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import secrets
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.benchmark import (  # noqa: E402
    EMAIL_DOMAIN,
    _session_rows,
    cpu_seconds,
    django_setup,
    percentiles,
    worker_pids,
)

CARD = re.compile(r'id="card-(\d+)"')
PRACTICE_LINK = re.compile(r'class="button primary" href="/dialogues/')


def seed(n: int, *, run_id: str) -> dict:
    """N ready couples, all joined and checked in; a presenter; their logins."""
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import generate_totp_secret
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.models import Session
    from django.utils import timezone

    from couples.models import Couple, Membership, User
    from safety.models import SafetyScreening
    from therapists.workshops import services

    password = make_password(secrets.token_urlsafe(24))  # nobody logs in with it
    at = timezone.now()
    partners = User.objects.bulk_create(
        [
            User(
                email=f"bench-{run_id}-{i}{slot}@{EMAIL_DOMAIN}",
                display_name=f"W{i}{slot.upper()}",
                password=password,
            )
            for i in range(n)
            for slot in "ab"
        ]
    )
    couples = Couple.objects.bulk_create([Couple(created_by=partners[2 * i]) for i in range(n)])
    Membership.objects.bulk_create(
        [Membership(couple=couples[i], user=partners[2 * i + s]) for i in range(n) for s in (0, 1)]
    )
    SafetyScreening.objects.bulk_create(
        [
            SafetyScreening(
                user=partners[2 * i + s],
                couple=couples[i],
                answers={"afraid": "no", "hurt": "no", "crisis": "no"},
                completed_at=at,
                ready=True,
                ready_at=at,
            )
            for i in range(n)
            for s in (0, 1)
        ]
    )
    presenter = User.objects.create(
        email=f"bench-{run_id}-presenter@{EMAIL_DOMAIN}",
        display_name="Presenter",
        password=password,
        kind=User.Kind.THERAPIST,
        therapist_verified_at=at,
    )
    secret = get_adapter().encrypt(generate_totp_secret())
    Authenticator.objects.create(
        user=presenter, type=Authenticator.Type.TOTP, data={"secret": secret}
    )
    workshop = services.workshop_create(
        presenter=presenter,
        title="Bench workshop",
        starts_at=at,
        stream_url="",
        token=secrets.token_urlsafe(16),
    )
    segment = services.segment_add(
        workshop=workshop,
        kind="practise",
        text="",
        dialogue_kind="intentional",
        minutes=30,
        token=secrets.token_urlsafe(16),
    )
    for person in partners:
        services.workshop_join(user=person, code=workshop.code)
    for person in partners[::2]:
        services.presence_set(user=person, workshop_public_id=workshop.public_id, present=True)
    expire = at + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    keys, rows = _session_rows([presenter, *partners], expire)
    Session.objects.bulk_create(rows)
    return {
        "workshop": workshop,
        "segment": segment,
        "presenter": presenter,
        "partners": partners,
        "keys": keys,
        "couple_ids": [c.pk for c in couples],
    }


def delete_seed(run_id: str) -> None:
    from django.contrib.sessions.models import Session
    from django.db import IntegrityError

    from couples.models import Couple, User
    from dialogues.models import DialogueSession
    from therapists.workshops.models import Workshop

    users = User.objects.filter(email__startswith=f"bench-{run_id}-")
    ids = {str(pk) for pk in users.values_list("pk", flat=True)}
    Workshop.objects.filter(presenter__in=users).delete()
    couples = Couple.objects.filter(memberships__user__in=users).distinct()
    for attempt in range(5):
        try:
            DialogueSession.objects.filter(couple__in=couples).delete()
            break
        except IntegrityError:  # the job worker planned a reminder meanwhile: once more
            if attempt == 4:
                raise
    couples.delete()
    for session in Session.objects.all().iterator():
        if str(session.get_decoded().get("_auth_user_id", "")) in ids:
            session.delete()
    users.delete()


class Board:
    """The presenter's board socket: when each couple's card arrived."""

    def __init__(self) -> None:
        self.cards: dict[int, list[float]] = {}
        self.messages = 0

    async def listen(self, ws) -> None:
        async for message in ws:
            received = time.perf_counter()
            self.messages += 1
            for attendance in CARD.findall(message):
                self.cards.setdefault(int(attendance), []).append(received)


class Room:
    """A partner's workshop page socket: when their practice dialogue's link first arrived."""

    def __init__(self) -> None:
        self.practice_at: float | None = None

    async def listen(self, ws) -> None:
        async for message in ws:
            if self.practice_at is None and PRACTICE_LINK.search(message):
                self.practice_at = time.perf_counter()


async def open_socket(url: str, path: str, key: str):
    from websockets.asyncio.client import connect

    parts = urlsplit(url)
    ws_url = ("wss://" if parts.scheme == "https" else "ws://") + parts.netloc + path
    return await connect(
        ws_url,
        additional_headers={"Cookie": f"sessionid={key}"},
        origin=f"{parts.scheme}://{parts.netloc}",  # type: ignore[arg-type]
        max_size=None,
    )


async def post(http, url: str, path: str, key: str) -> int:
    csrf = secrets.token_hex(16)
    parts = urlsplit(url)
    headers = {
        "Cookie": f"sessionid={key}; csrftoken={csrf}",
        "X-CSRFToken": csrf,
        "Origin": f"{parts.scheme}://{parts.netloc}",
        "Referer": f"{parts.scheme}://{parts.netloc}/",
    }
    async with http.post(url + path, headers=headers, allow_redirects=False) as response:
        await response.read()
        return response.status


async def until(
    check, *, timeout: float, every: float = 0.05, in_thread: bool = True
) -> float | None:
    """Seconds until `check()` (run in a thread, unless `in_thread` is False) is true; None
    if it never was."""
    from asgiref.sync import sync_to_async

    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        done = await sync_to_async(check, thread_sensitive=True)() if in_thread else check()
        if done:
            return time.perf_counter() - started
        await asyncio.sleep(every)
    return None


def step(practice, k: int) -> float:
    """Couple's k-th step, through the one door; the moment it committed."""
    from dialogues import services
    from dialogues.models import DialogueSession

    session = DialogueSession.objects.select_related("partner_a", "partner_b").get(
        pk=practice["session_id"]
    )
    if session.is_paused:
        return 0.0
    if k == 0:
        who, move, payload = session.partner_a, "send", {"text": f"Step {k}: Sunday mornings."}
    elif k % 2:
        who, move, payload = session.partner_b, "mirror", {"text": f"Step {k}: you said so."}
    else:
        who, move, payload = session.partner_a, "not_quite", {"text": f"Step {k}: not quite."}
    try:
        services.move_submit(
            session_public_id=session.public_id,
            user=who,
            move=move,
            payload=payload,
            token=secrets.token_urlsafe(16),
        )
    except services.DialogueError:
        return 0.0  # paused for the group between the read and the move: no step made
    return time.perf_counter()


async def run(args) -> dict:
    import aiohttp
    from asgiref.sync import sync_to_async

    from dialogues.models import DialogueSession, Turn
    from therapists.workshops.models import Practice

    run_id = args.run_id or secrets.token_hex(3)
    seeded = await sync_to_async(seed, thread_sensitive=True)(args.n, run_id=run_id)
    workshop, segment, keys = seeded["workshop"], seeded["segment"], seeded["keys"]
    result: dict = {"n": args.n, "run_id": run_id, "at": datetime.now(UTC).isoformat()}
    pids = worker_pids(port=args.port, server_pid=None) if args.port else []
    cpu_before = {pid: cpu_seconds(pid) or 0.0 for pid in pids}
    board = Board()
    sockets = []
    try:
        presenter_ws = await open_socket(
            args.url, f"/ws/therapist/workshops/{workshop.public_id}/", keys[seeded["presenter"].pk]
        )
        sockets.append(presenter_ws)
        listener = asyncio.ensure_future(board.listen(presenter_ws))
        rooms = [Room() for _person in seeded["partners"]]
        listeners = [listener]
        for person, room in zip(seeded["partners"], rooms, strict=True):
            path = f"/ws/workshops/{workshop.public_id}/"
            ws = await open_socket(args.url, path, keys[person.pk])
            sockets.append(ws)
            listeners.append(asyncio.ensure_future(room.listen(ws)))
        async with aiohttp.ClientSession() as http:
            start_path = (
                f"/therapist/workshops/{workshop.public_id}/segments/{segment.public_id}/start/"
            )
            clicked = time.perf_counter()
            status = await post(http, args.url, start_path, keys[seeded["presenter"].pk])
            result["start_status"] = status
            result["start_click_ms"] = round(1000 * (time.perf_counter() - clicked), 1)
            started = await until(
                lambda: Practice.objects.filter(segment=segment).count() >= args.n,
                timeout=args.start_timeout,
                every=0.02,
            )
            # From the click: the request itself may have started every dialogue.
            result["start_seconds"] = (
                round(time.perf_counter() - clicked, 3) if started is not None else None
            )
            reached = await until(
                lambda: all(room.practice_at is not None for room in rooms),
                timeout=args.start_timeout,
                every=0.01,
                in_thread=False,
            )
            # The click until every partner's page showed the link to their practice.
            arrived = sorted(room.practice_at - clicked for room in rooms if room.practice_at)
            result["start_to_sockets_seconds"] = (
                round(arrived[-1], 3) if reached is not None else None
            )
            result["start_to_half_the_sockets_seconds"] = (
                round(arrived[len(arrived) // 2], 3) if arrived else None
            )

            from therapists.workshops.models import SegmentRun

            await until(
                lambda: SegmentRun.objects.filter(segment=segment, done_at__isnull=False).exists(),
                timeout=args.start_timeout,
            )

            def spread() -> dict:
                from django.db.models import Max, Min

                run = SegmentRun.objects.get(segment=segment)
                made = DialogueSession.objects.filter(workshop_practice__segment=segment)
                first_last = made.aggregate(first=Min("created_at"), last=Max("created_at"))
                return {
                    # the click saved to the job done (the worker's polling included)
                    "job_seconds": round((run.done_at - run.started_at).total_seconds(), 3),
                    # the first dialogue created to the last: "every couple at once"
                    "dialogues_within_seconds": round(
                        (first_last["last"] - first_last["first"]).total_seconds(), 3
                    ),
                }

            result.update(await sync_to_async(spread, thread_sensitive=True)())
            practices = await sync_to_async(
                lambda: [
                    {"attendance": a, "session_id": s}
                    for a, s in Practice.objects.filter(segment=segment).values_list(
                        "attendance_id", "session_id"
                    )
                ],
                thread_sensitive=True,
            )()
            await asyncio.sleep(1)  # the board redraws once the job is done, then listens

            lags: list[float] = []
            made: dict[int, int] = {}
            missing_cards = 0
            stop_at = time.perf_counter() + args.duration
            reconvene_at = time.perf_counter() + args.reconvene_at

            async def couple(practice: dict) -> None:
                nonlocal missing_cards
                await asyncio.sleep(random.uniform(0, args.step_every))
                k = 0
                while time.perf_counter() < stop_at:
                    committed = await sync_to_async(step, thread_sensitive=False)(practice, k)
                    if committed:
                        made[practice["session_id"]] = made.get(practice["session_id"], 0) + 1
                        k += 1
                        waited = 0.0
                        while waited < args.card_timeout:
                            arrivals = [
                                t
                                for t in board.cards.get(practice["attendance"], [])
                                if t >= committed
                            ]
                            if arrivals:
                                lags.append(arrivals[0] - committed)
                                break
                            await asyncio.sleep(0.01)
                            waited += 0.01
                        else:
                            missing_cards += 1
                    await asyncio.sleep(args.step_every)

            async def reconvene() -> None:
                await asyncio.sleep(max(0.0, reconvene_at - time.perf_counter()))
                await post(
                    http,
                    args.url,
                    f"/therapist/workshops/{workshop.public_id}/reconvene/",
                    keys[seeded["presenter"].pk],
                )
                paused = await until(
                    lambda: (
                        DialogueSession.objects.filter(
                            workshop_practice__segment=segment, status="paused"
                        ).count()
                        >= args.n
                    ),
                    timeout=args.start_timeout,
                )
                result["reconvene_seconds"] = round(paused, 3) if paused is not None else None
                await asyncio.sleep(args.step_every)
                await post(
                    http,
                    args.url,
                    f"/therapist/workshops/{workshop.public_id}/resume/",
                    keys[seeded["presenter"].pk],
                )

            await asyncio.gather(reconvene(), *(couple(p) for p in practices))

        turns = await sync_to_async(
            lambda: {
                p["session_id"]: Turn.objects.filter(
                    session_id=p["session_id"], kind="move"
                ).count()
                for p in practices
            },
            thread_sensitive=True,
        )()
        result["steps"] = sum(made.values())
        result["lost_or_duplicated"] = sum(
            1 for sid, count in turns.items() if count != made.get(sid, 0)
        )
        result["board_missing_cards"] = missing_cards
        result["board_lag"] = percentiles(lags)
        result["board_messages"] = board.messages
        for each in listeners:
            each.cancel()
    finally:
        for ws in sockets:
            await ws.close()
        cpu_after = {pid: cpu_seconds(pid) or 0.0 for pid in pids}
        result["server_cpu_seconds"] = round(
            sum(cpu_after[p] - cpu_before.get(p, 0.0) for p in cpu_after), 2
        )
        if not args.keep_data:
            await sync_to_async(delete_seed, thread_sensitive=True)(run_id)
    return result


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default="http://127.0.0.1:8000")
    p.add_argument("--port", type=int, default=8000, help="the server's port (for its CPU)")
    p.add_argument("--n", type=int, default=60, help="couples")
    p.add_argument("--step-every", type=float, default=10.0, help="seconds between steps")
    p.add_argument("--duration", type=float, default=300.0, help="seconds of steps")
    p.add_argument("--reconvene-at", type=float, default=240.0, help="seconds in")
    p.add_argument("--start-timeout", type=float, default=60.0)
    p.add_argument("--card-timeout", type=float, default=10.0)
    p.add_argument("--max-time", type=float, default=900.0)
    p.add_argument("--run-id", default="")
    p.add_argument("--keep-data", action="store_true")
    p.add_argument("--out", type=Path, default=None, help="append the result (JSON lines)")
    return p


def main(argv: list[str] | None = None) -> dict:
    args = parser().parse_args(argv)
    django_setup()
    result = asyncio.run(asyncio.wait_for(run(args), timeout=args.max_time))
    print(json.dumps(result, indent=2))
    if args.out:
        with args.out.open("a") as out:
            out.write(json.dumps(result) + "\n")
    return result


if __name__ == "__main__":
    main()
