#!/usr/bin/env python
"""Latency benchmark: N live dialogues against a running server (`make serve`).

Run by hand, never from the test suite. See docs/performance.md for the exact commands.

What one run does, bounded in time (--max-time) and in connections (--max-connections):

1. Seeds N couples, each with a started intentional dialogue and logged-in sessions, straight
   into the server's database (bulk inserts; session cookies via SessionStore with the auth
   hash, so the bench needs the server's DATABASE_URL and SECRET_KEY). Also one dialogue of
   200 turns, whose page it times (server time for a 200-turn page).
2. Full pipeline: connects every participant's websocket (two partners and the couple's
   therapist on the live console), measures the workers' memory per idle socket, then
   submits steps like the browser (a frame on the actor's socket; with --moves http, a form
   post with its CSRF token and HX-Request) at --pace seconds per
   step per dialogue (random start offsets), in the protocol's endless loop
   send -> mirror -> not quite -> mirror -> not quite -> ...  For every step it measures the
   time from submit to each socket receiving the fragment carrying that step (the
   `id="sync"` marker's data-seq). Clients behave like the browser: a gap asks for a
   snapshot, a closed socket reconnects and takes the snapshot the server sends.
3. Checks against the database: every committed turn must be shown exactly once, in
   order, by every socket (lost / duplicated / out of order), and, with --verify-pages,
   on every participant's page fetched over HTTP at the end.
4. Bare baselines on the same servers (the server must run bench/asgi.py): the same
   number of groups and sockets, the same pace, but a consumer that only echoes a
   group_send, made once by a frame on the sender's echo socket (the road of a socket move)
   and once by a tiny HTTP endpoint (the road of an HTTP move). The full run is divided by
   the baseline of its own road (--moves); both ratios are printed. (Runs before
   2026-12-06 had only the HTTP echo, also for socket moves.)
5. Server CPU (user+sys from /proc/<pid>/stat) and memory (VmRSS, VmHWM) per worker.
6. Prints a summary, appends the result to a JSON file (--out) and a row to a Markdown
   table (--markdown), and deletes the data it seeded (unless --keep-data).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import re
import resource
import secrets
import signal
import statistics
import string
import sys
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

MARKER = re.compile(r'id="sync"[^>]*data-kind="(\w+)" data-from="(\d+)" data-seq="(\d+)"')
TURN_ID = re.compile(r'<li id="turn-(\d+)"')
PANEL_AT = re.compile(r'name="at" value="(\d+)"')
STEP_TEXT = (
    "Step {k}: when the week gets busy I feel far from you, "
    "and what I would like is that we keep Sunday mornings for us."
)
EMAIL_DOMAIN = "bench.invalid"
CLOSE_FATAL = {4401, 4403}
# Like the page's htmx ws extension: reconnect after these close codes (1006: no close frame,
# refused, reset), never after others (a clean close means "don't come back").
RECONNECT_CODES = {1006, 1011, 1012, 1013}


def now() -> float:
    return time.perf_counter()


# --------------------------------------------------------------------------- Django


def django_setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "imago_site.settings")
    import logging

    import django

    django.setup()
    logging.getLogger("imago").setLevel(logging.WARNING)  # the seeding's moves, one line each


THERAPIST_SOCKET = "/ws/therapist/dialogues/{public_id}/"
PARTNER_SOCKET = "/ws/dialogues/{public_id}/"
PARTNER_PAGE = "/dialogues/{public_id}/"


@dataclass
class Participant:
    slot: str  # "a", "b" or "t" (therapist)
    user_id: int
    session_key: str
    csrf: str  # the CSRF secret, sent as cookie and header (as a browser would, unmasked)
    socket_path: str
    page_path: str | None


@dataclass
class SeededDialogue:
    pk: int
    public_id: str
    seq: int
    participants: list[Participant]


@dataclass
class Seed:
    run_id: str
    dialogues: list[SeededDialogue]
    long_dialogue: SeededDialogue
    user_ids: list[int]
    session_keys: list[str]
    couple_ids: list[int]
    seconds: float


def _session_rows(users, expire):
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils.crypto import get_random_string

    store = SessionStore()
    keys, rows = {}, []
    for user in users:
        key = get_random_string(32, string.ascii_lowercase + string.digits)
        data = {
            SESSION_KEY: str(user.pk),
            BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
            HASH_SESSION_KEY: user.get_session_auth_hash(),
        }
        rows.append(Session(session_key=key, session_data=store.encode(data), expire_date=expire))
        keys[user.pk] = key
    return keys, rows


def seed(n: int, *, run_id: str, consoles: int | None = None) -> Seed:
    """N couples with a started dialogue at the "send" step, each with its therapist, plus a
    200-turn dialogue. The first `consoles` dialogues (all by default) have their therapist's
    console open as a third socket."""
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.models import Session
    from django.db import transaction
    from django.utils import timezone

    from couples.models import Couple, Membership, User
    from dialogues import services
    from dialogues.models import DialogueSession, Turn
    from safety.models import SafetyScreening

    started = now()
    password = make_password(secrets.token_urlsafe(24))  # one hash for all; nobody logs in
    expire = timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE)
    count = n + 1  # couple n is the one with the long dialogue

    with transaction.atomic():
        partners = User.objects.bulk_create(
            [
                User(
                    email=f"bench-{run_id}-{i}{slot}@{EMAIL_DOMAIN}",
                    display_name=f"Bench {slot.upper()}{i}",
                    password=password,
                )
                for i in range(count)
                for slot in "ab"
            ],
            batch_size=1000,
        )
        couples = Couple.objects.bulk_create(
            [Couple(created_by=partners[2 * i]) for i in range(count)], batch_size=1000
        )
        Membership.objects.bulk_create(
            [
                Membership(couple=couples[i], user=partners[2 * i + s])
                for i in range(count)
                for s in (0, 1)
            ],
            batch_size=1000,
        )
        # Every partner answered the safety questions (no concern) and said they're ready, as
        # a couple must before its first dialogue.
        answered = timezone.now()
        SafetyScreening.objects.bulk_create(
            [
                SafetyScreening(
                    user=partners[2 * i + s],
                    couple=couples[i],
                    answers={"afraid": "no", "hurt": "no", "crisis": "no"},
                    completed_at=answered,
                    ready=True,
                    ready_at=answered,
                )
                for i in range(count)
                for s in (0, 1)
            ],
            batch_size=1000,
        )
    # One dialogue made by the real services is the template for all the others.
    a0, b0 = partners[0], partners[1]
    template = services.dialogue_start(user=a0, kind="intentional", topic="Benchmark dialogue")
    services.move_submit(
        session_public_id=template.public_id,
        user=b0,
        move="accept_now",
        token=secrets.token_urlsafe(16),
    )
    template.refresh_from_db()
    template_turns = list(template.turns.order_by("seq"))
    with transaction.atomic():
        sessions = [
            template,
            *DialogueSession.objects.bulk_create(
                [
                    DialogueSession(
                        couple=couples[i],
                        kind=template.kind,
                        topic=template.topic,
                        partner_a=partners[2 * i],
                        partner_b=partners[2 * i + 1],
                        state=template.state,
                        step=template.step,
                        round=template.round,
                        seq=template.seq,
                        step_seq=template.step_seq,
                        status=template.status,
                    )
                    for i in range(1, n)
                ],
                batch_size=1000,
            ),
        ]
        Turn.objects.bulk_create(
            [
                Turn(
                    session=s,
                    seq=t.seq,
                    kind=t.kind,
                    round=t.round,
                    step=t.step,
                    move=t.move,
                    actor_id=s.partner_a_id if t.actor_id == a0.pk else s.partner_b_id,
                    actor_role=t.actor_role,
                    text=t.text,
                    data=t.data,
                )
                for s in sessions[1:]
                for t in template_turns
            ],
            batch_size=2000,
        )
    # The long dialogue: 200 turns through the real services (send, then mirror/not quite).
    a, b = partners[2 * n], partners[2 * n + 1]
    long = services.dialogue_start(user=a, kind="intentional", topic="Benchmark long dialogue")
    services.move_submit(
        session_public_id=long.public_id, user=b, move="accept_now", token=secrets.token_urlsafe(16)
    )
    services.move_submit(
        session_public_id=long.public_id,
        user=a,
        move="send",
        payload={"text": STEP_TEXT.format(k=0)},
        token=secrets.token_urlsafe(16),
    )
    for k in range(1, 198):
        who, move = (b, "mirror") if k % 2 else (a, "not_quite")
        services.move_submit(
            session_public_id=long.public_id,
            user=who,
            move=move,
            payload={"text": STEP_TEXT.format(k=k)},
            token=secrets.token_urlsafe(16),
        )
    long.refresh_from_db()

    therapists = _seed_therapists(run_id=run_id, couples=couples[:n], password=password)
    session_users = list(partners) + therapists
    keys, rows = _session_rows(session_users, expire)
    Session.objects.bulk_create(rows, batch_size=1000)

    def participants(s, i, with_therapist):
        found = [
            Participant(
                slot,
                s.partner_a_id if slot == "a" else s.partner_b_id,
                keys[s.partner_a_id if slot == "a" else s.partner_b_id],
                secrets.token_hex(16),
                PARTNER_SOCKET.format(public_id=s.public_id),
                PARTNER_PAGE.format(public_id=s.public_id),
            )
            for slot in "ab"
        ]
        if with_therapist:
            t = therapists[i]
            found.append(
                Participant(
                    "t",
                    t.pk,
                    keys[t.pk],
                    secrets.token_hex(16),
                    THERAPIST_SOCKET.format(public_id=s.public_id),
                    None,
                )
            )
        return found

    dialogues = [
        SeededDialogue(
            s.pk, s.public_id, s.seq, participants(s, i, consoles is None or i < consoles)
        )
        for i, s in enumerate(sessions)
    ]
    long_seeded = SeededDialogue(long.pk, long.public_id, long.seq, participants(long, n, False))
    return Seed(
        run_id=run_id,
        dialogues=dialogues,
        long_dialogue=long_seeded,
        user_ids=[u.pk for u in session_users],
        session_keys=list(keys.values()),
        couple_ids=[c.pk for c in couples],
        seconds=now() - started,
    )


def _seed_therapists(*, run_id: str, couples, password: str) -> list:
    """One verified therapist per couple, linked with both partners' consent."""
    from django.utils import timezone

    from couples.models import Membership, User
    from therapists.models import Consent, TherapistLink

    at = timezone.now()
    therapists = User.objects.bulk_create(
        [
            User(
                email=f"bench-{run_id}-{i}t@{EMAIL_DOMAIN}",
                display_name=f"Bench T{i}",
                password=password,
                kind=User.Kind.THERAPIST,
                therapist_verified_at=at,
            )
            for i in range(len(couples))
        ],
        batch_size=1000,
    )
    links = TherapistLink.objects.bulk_create(
        [
            TherapistLink(
                therapist=t,
                couple=c,
                status=TherapistLink.Status.ACTIVE,
                therapist_accepted_at=at,
                activated_at=at,
            )
            for t, c in zip(therapists, couples, strict=True)
        ],
        batch_size=1000,
    )
    members = {}
    for m in Membership.objects.filter(couple__in=couples, is_active=True):
        members.setdefault(m.couple_id, []).append(m.user_id)
    Consent.objects.bulk_create(
        [Consent(link=link, partner_id=p) for link in links for p in members[link.couple_id]],
        batch_size=1000,
    )
    # Therapists read nothing, sockets included, without their second factor: one each (the
    # secret is never used; nobody logs in with it).
    from allauth.mfa.adapter import get_adapter
    from allauth.mfa.models import Authenticator
    from allauth.mfa.totp.internal.auth import generate_totp_secret

    secret = get_adapter().encrypt(generate_totp_secret())
    Authenticator.objects.bulk_create(
        [
            Authenticator(user=t, type=Authenticator.Type.TOTP, data={"secret": secret})
            for t in therapists
        ],
        batch_size=1000,
    )
    return therapists


def delete_seed(*, run_id: str | None, session_keys: list[str] | None = None) -> int:
    """Deletes what a run seeded (every run's, with run_id=None). Returns the users deleted."""
    from django.contrib.sessions.models import Session
    from django.db import transaction

    from couples.models import Couple, Membership, User
    from dialogues.models import DialogueSession, Turn
    from therapists.models import Consent, TherapistLink

    pattern = f"bench-{run_id}-" if run_id else "bench-"
    users = User.objects.filter(email__startswith=pattern, email__endswith=f"@{EMAIL_DOMAIN}")
    user_ids = list(users.values_list("pk", flat=True))
    if not user_ids:
        return 0
    with transaction.atomic():
        couples = Couple.objects.filter(memberships__user_id__in=user_ids).distinct()
        couple_ids = list(couples.values_list("pk", flat=True))
        sessions = DialogueSession.objects.filter(couple_id__in=couple_ids)
        Turn.objects.filter(session__in=sessions).delete()
        sessions.delete()
        Consent.objects.filter(link__couple_id__in=couple_ids).delete()
        TherapistLink.objects.filter(couple_id__in=couple_ids).delete()
        Membership.objects.filter(couple_id__in=couple_ids).delete()
        Couple.objects.filter(pk__in=couple_ids).delete()
        if session_keys is None:  # every run's: find their sessions by decoding each row
            ids = {str(u) for u in user_ids}
            session_keys = [
                s.session_key
                for s in Session.objects.all().iterator()
                if str(s.get_decoded().get("_auth_user_id", "")) in ids
            ]
        Session.objects.filter(session_key__in=session_keys).delete()
        User.objects.filter(pk__in=user_ids).delete()
    return len(user_ids)


def delete_seed_soon(*, run_id: str, session_keys: list[str]) -> None:
    """Deletes the run's data once the server has stopped writing for it: a socket still
    closing may record its audit event for a seeded therapist meanwhile (the users' delete
    then fails at commit). Tried three times; what it measured is reported whatever happens."""
    from django.db import IntegrityError

    for attempt in range(3):
        try:
            delete_seed(run_id=run_id, session_keys=session_keys)
            return
        except IntegrityError:
            time.sleep(2 + 3 * attempt)
    print("the run's data is still there: run with --delete-all-bench-data later", flush=True)


def committed_turns(pks: list[int]) -> dict[int, list[int]]:
    from dialogues.models import Turn

    turns: dict[int, list[int]] = {pk: [] for pk in pks}
    for session_id, seq in (
        Turn.objects.filter(session_id__in=pks)
        .order_by("session_id", "seq")
        .values_list("session_id", "seq")
    ):
        turns[session_id].append(seq)
    return turns


# --------------------------------------------------------------------------- server processes


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        found += [int(p) for p in _read(f"{task}/children").split()]
    return found


def _cmdline(pid: int) -> str:
    return _read(f"/proc/{pid}/cmdline").replace("\0", " ")


def listening_pids(port: int) -> list[int]:
    """Processes holding the socket that listens on 127.0.0.1/0.0.0.0/[::]:port."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in _read(table).splitlines()[1:]:
            parts = line.split()
            if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(parts[9])
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            for fd in (proc / "fd").iterdir():
                link = os.readlink(fd)
                if link.startswith("socket:[") and link[8:-1] in inodes:
                    pids.append(int(proc.name))
                    break
        except OSError:
            continue
    return pids


def worker_pids(*, port: int, server_pid: int | list[int] | None) -> list[int]:
    """uvicorn's worker processes (or the single server process without --workers), found
    from uvicorn's parent(s) (any ancestor will do, e.g. `make serve`) or the listening port."""
    if server_pid:
        todo, everyone = [server_pid] if isinstance(server_pid, int) else list(server_pid), []
        while todo:
            pid = todo.pop()
            everyone.append(pid)
            todo += _children(pid)
    else:
        everyone = listening_pids(port)
    workers = [p for p in everyone if "spawn_main" in _cmdline(p)]
    if workers:
        return sorted(workers)
    return sorted(p for p in everyone if "uvicorn" in _cmdline(p) or "daphne" in _cmdline(p))


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    stat = _read(f"/proc/{pid}/stat")
    if not stat:
        return None
    rest = stat[stat.rfind(")") + 2 :].split()
    return (int(rest[11]) + int(rest[12])) / CLOCK_TICKS


SERVICES = ("postgres", "redis-server")


def services_cpu_seconds() -> dict[str, float]:
    """CPU seconds of every PostgreSQL and Redis process on this machine (they serve only
    the benchmark while it runs), by process ("redis-server 1234"), and of this bench
    client. By process, so that one restarted meanwhile (the chaos run restarts Redis) counts
    from zero instead of making the total go down."""
    total: dict[str, float] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        stat = _read(f"/proc/{pid}/stat")
        name = stat[stat.find("(") + 1 : stat.rfind(")")] if stat else ""
        if name in SERVICES:
            total[f"{name} {pid}"] = cpu_seconds(int(pid)) or 0.0
    mine = os.times()
    total["bench client"] = mine.user + mine.system
    return total


def services_used(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """CPU seconds each service (and the bench client) used between two readings."""
    used = dict.fromkeys((*SERVICES, "bench client"), 0.0)
    for key, seconds in after.items():
        name = key.rsplit(" ", 1)[0] if key != "bench client" else key
        used[name] += seconds - before.get(key, 0.0)
    return {name: round(value, 2) for name, value in used.items()}


def memory_kib(pid: int) -> dict[str, int]:
    values = {}
    for line in _read(f"/proc/{pid}/status").splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(value.split()[0])
    return values


def machine_cpu_ticks() -> dict[str, int]:
    """The whole machine's CPU time so far, by kind, from /proc/stat (in clock ticks)."""
    names = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
    first = _read("/proc/stat").splitlines()[:1]
    if not first or not first[0].startswith("cpu "):
        return {}
    return dict(zip(names, (int(v) for v in first[0].split()[1:9]), strict=False))


@dataclass
class ProcessSample:
    at: float
    cpu: dict[int, float]
    memory: dict[int, dict[str, int]]
    machine: dict[str, int]
    services: dict[str, float]

    @classmethod
    def take(cls, pids: list[int]) -> ProcessSample:
        cpu = {p: c for p in pids if (c := cpu_seconds(p)) is not None}
        return cls(
            now(),
            cpu,
            {p: memory_kib(p) for p in cpu},
            machine_cpu_ticks(),
            services_cpu_seconds(),
        )

    def rss_kib(self) -> int:
        return sum(m.get("VmRSS", 0) for m in self.memory.values())


def process_report(before: ProcessSample, after: ProcessSample) -> dict:
    wall = after.at - before.at
    workers = {}
    for pid in sorted(set(before.cpu) | set(after.cpu)):
        used = after.cpu.get(pid, 0.0) - before.cpu.get(pid, 0.0) if pid in after.cpu else None
        workers[str(pid)] = {
            "cpu_seconds": round(used, 2) if used is not None else None,
            "cpu_percent_of_one_core": round(100 * used / wall, 1) if used is not None else None,
            "rss_mib": round(after.memory.get(pid, {}).get("VmRSS", 0) / 1024, 1),
            "peak_rss_mib": round(after.memory.get(pid, {}).get("VmHWM", 0) / 1024, 1),
            "note": ""
            if pid in before.cpu and pid in after.cpu
            else ("started during the phase" if pid in after.cpu else "gone (killed or restarted)"),
        }
    return {
        "wall_seconds": round(wall, 1),
        "workers": workers,
        # PostgreSQL, Redis and the bench client itself, over the same phase (CPU seconds)
        "services": services_used(before.services, after.services),
        "machine": machine_report(before.machine, after.machine),
    }


def machine_report(before: dict[str, int], after: dict[str, int]) -> dict:
    """How busy the whole machine was over a phase, in % of all its cores: on a shared virtual
    machine, `steal` is CPU time the hypervisor gave to someone else (it inflates latency)."""
    delta = {k: after.get(k, 0) - before.get(k, 0) for k in after}
    total = sum(delta.values())
    if total <= 0:
        return {}
    busy = total - delta.get("idle", 0) - delta.get("iowait", 0) - delta.get("steal", 0)
    return {
        "busy_percent": round(100 * busy / total, 1),
        "steal_percent": round(100 * delta.get("steal", 0) / total, 1),
        "iowait_percent": round(100 * delta.get("iowait", 0) / total, 1),
        "cpu_seconds_all_processes": round(busy / os.sysconf("SC_CLK_TCK"), 1),
    }


# --------------------------------------------------------------------------- statistics


LATENCY_WINDOW = 10.0  # seconds: the result also gives p50/p99 for each such slice of the run


def percentiles(values: list[float]) -> dict:
    if not values:
        return {"count": 0}
    ordered = sorted(values)

    def rank(p: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))]

    return {
        "count": len(ordered),
        "p50_ms": round(1000 * statistics.median(ordered), 2),
        "p95_ms": round(1000 * rank(95), 2),
        "p99_ms": round(1000 * rank(99), 2),
        "max_ms": round(1000 * ordered[-1], 2),
    }


# --------------------------------------------------------------------------- clients


@dataclass
class Config:
    url: str
    n: int
    pace: float
    duration: float
    baseline_duration: float
    connect_rate: float
    step_timeout: float
    max_time: float
    verify_pages: bool
    port: int
    server_pid: int | list[int] | None
    run_id: str
    label: str = ""
    served_by: str = ""  # response header naming the host behind a balancer
    moves: str = "socket"  # how a step is submitted: over the actor's open socket, or HTTP
    consoles: float = 1.0  # share of the dialogues with their therapist's console open


class Bench:
    """Shared state of one run: the HTTP client, the deadline, the stop flag."""

    def __init__(self, config: Config) -> None:
        self.config = config
        parts = urlsplit(config.url)
        self.origin = f"{parts.scheme}://{parts.netloc}"
        self.ws_base = ("wss://" if parts.scheme == "https" else "ws://") + parts.netloc
        self.stop = asyncio.Event()
        self.stepping = asyncio.Event()  # set when the full pipeline starts submitting steps
        self.deadline = time.monotonic() + config.max_time
        self.http = None
        self.events: list[str] = []
        self.cut_off: set[Socket] = set()  # sockets a chaos run keeps offline for a while
        self.posts_per_host: Counter = Counter()  # with --served-by-header

    async def __aenter__(self) -> Bench:
        import aiohttp

        self.http = aiohttp.ClientSession(
            cookie_jar=aiohttp.DummyCookieJar(),  # each request carries its person's cookies
            connector=aiohttp.TCPConnector(limit=HTTP_POOL, keepalive_timeout=3),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        return self

    async def __aexit__(self, *exc) -> None:
        await self.http.close()

    def log(self, message: str) -> None:
        line = f"[{datetime.now(UTC):%H:%M:%S}] {message}"
        self.events.append(line)
        print(line, flush=True)

    def time_left(self) -> float:
        return self.deadline - time.monotonic()

    def stopping(self) -> bool:
        return self.stop.is_set() or self.time_left() <= 0

    async def sleep_until(self, moment: float) -> bool:
        """Sleeps until perf_counter() == moment; False if the run is stopping."""
        delay = moment - now()
        if delay > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.stop.wait(), timeout=min(delay, self.time_left()))
        return not self.stopping()

    def headers(self, person: Participant, *, htmx: bool = False) -> dict:
        headers = {"Cookie": f"sessionid={person.session_key}; csrftoken={person.csrf}"}
        if htmx:
            headers.update(
                {
                    "X-CSRFToken": person.csrf,
                    "HX-Request": "true",
                    "Origin": self.origin,
                    "Referer": self.origin + "/",
                }
            )
        return headers

    async def get(self, person: Participant, path: str) -> tuple[int, str, float]:
        started = now()
        async with self.http.get(
            self.config.url + path, headers=self.headers(person), allow_redirects=False
        ) as response:
            body = await response.text()
        return response.status, body, now() - started

    async def post(self, person: Participant, path: str, data: dict) -> tuple[int, float]:
        started = now()
        async with self.http.post(
            self.config.url + path,
            data=data,
            headers=self.headers(person, htmx=True),
            allow_redirects=False,
        ) as response:
            await response.read()
        if self.config.served_by:
            self.posts_per_host[response.headers.get(self.config.served_by, "?")] += 1
        return response.status, now() - started


class Socket:
    """One participant's websocket, behaving like the page's script: it tracks the sync
    marker, asks for a snapshot on a gap, and reconnects (taking the snapshot) when closed."""

    def __init__(self, bench: Bench, person: Participant, path: str, *, echo: bool = False):
        self.bench, self.person, self.path, self.echo = bench, person, path, echo
        self.ws = None
        self.seen = 0  # last seq shown
        self.at = 0  # the step the move panel was made for
        self.shown: list[int] = []  # turn ids on the page, in order
        self.arrivals: dict[int, tuple[float, str]] = {}  # seq (or echo n) -> (time, how)
        self.deliveries: Counter = Counter()  # seq -> fragments that carried it
        self.snapshots = self.gaps = self.stale = self.connects = self.reconnects = 0
        self.fatal: str | None = None
        self.closed_for_good: int | None = None
        self.down_at_end = False  # not connected when the drain ended (still reconnecting)
        # Every end of a connection or of an attempt, until the run stops: (monotonic time,
        # close code or exception name, whether the socket had been open).
        self.closes: list[tuple[float, object, bool]] = []
        self.ready = asyncio.Event()  # first snapshot (or, for echo sockets, open)
        self.changed = asyncio.Event()
        self.task: asyncio.Task | None = None
        self.offline_until = 0.0
        self.pending: set[asyncio.Task] = set()
        # With --served-by-header: the host of the open connection, and every connect's
        # (monotonic time it opened, host, seconds its handshake took).
        self.host: str | None = None
        self.hosts: list[tuple[float, str, float]] = []

    def start(self) -> None:
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        from websockets.asyncio.client import connect
        from websockets.exceptions import ConnectionClosed, InvalidStatus

        backoff = 0.5
        while not self.bench.stopping():
            if self.offline_until > time.monotonic():  # cut off by a chaos run
                await asyncio.sleep(min(1.0, self.offline_until - time.monotonic()))
                continue
            code: object = None
            ws = None
            opened = False
            attempt = time.monotonic()
            try:
                async with connect(
                    self.bench.ws_base + self.path,
                    origin=self.bench.origin,
                    additional_headers={"Cookie": f"sessionid={self.person.session_key}"},
                    open_timeout=20,
                    ping_interval=None,
                    close_timeout=2,
                    max_size=8 * 2**20,
                ) as ws:
                    self.ws = ws
                    opened = True
                    self.connects += 1
                    if self.bench.config.served_by:
                        self.host = ws.response.headers.get(self.bench.config.served_by, "?")
                        opened_at = time.monotonic()
                        self.hosts.append((opened_at, self.host, opened_at - attempt))
                    backoff = 0.5
                    if self.echo:
                        self.ready.set()
                    async for message in ws:
                        self.on_message(message, now())
            except InvalidStatus as error:
                code = error.response.status_code
                if code == 403 and self.connects == 0:
                    self.fatal = "refused (403): wrong SECRET_KEY/DATABASE_URL or ALLOWED_HOSTS?"
                    self.ready.set()
                    return
                code = 1006  # what the page's script sees for a refused handshake
            except (ConnectionClosed, Exception) as error:
                code = type(error).__name__
            finally:
                self.ws = None
                self.host = None
            if ws is not None and ws.close_code is not None:
                code = ws.close_code
            if self.bench.stopping():
                return
            self.closes.append((time.monotonic(), code, opened))
            if code in CLOSE_FATAL:
                self.fatal = f"closed by the server with {code}"
                self.ready.set()
                return
            if isinstance(code, int) and code not in RECONNECT_CODES and code < 3000:
                self.closed_for_good = code  # the page wouldn't reconnect either
                return
            self.reconnects += 1
            await asyncio.sleep(backoff * (0.5 + random.random()))
            backoff = min(backoff * 2, 5.0)

    def on_message(self, message: str, at: float) -> None:
        if self.echo:
            n = json.loads(message)["n"]
            self.deliveries[n] += 1
            self.arrivals.setdefault(n, (at, "echo"))
            self.changed.set()
            return
        marker = MARKER.search(message)
        if marker is None:
            return  # presence and typing hints carry no steps
        kind, first, last = marker[1], int(marker[2]), int(marker[3])
        ids = [int(i) for i in TURN_ID.findall(message)]
        for seq in ids:
            self.deliveries[seq] += 1
        if kind == "snapshot":
            self.snapshots += 1
            self.shown = ids
            for seq in ids:
                self.arrivals.setdefault(seq, (at, "snapshot"))
            self.seen = last
        elif last <= self.seen:
            self.stale += 1  # already shown: the page drops it
            return
        elif first != self.seen + 1:
            self.gaps += 1  # the page drops it and asks for a snapshot
            self.request_snapshot()
            return
        else:
            self.shown.extend(ids)
            for seq in ids:
                self.arrivals.setdefault(seq, (at, "update"))
            self.seen = last
        panel = PANEL_AT.search(message)
        if panel:
            self.at = int(panel[1])
        self.ready.set()
        self.changed.set()

    def request_snapshot(self) -> None:
        if self.ws is not None:
            task = asyncio.create_task(self._send('{"type": "snapshot"}'))
            self.pending.add(task)
            task.add_done_callback(self.pending.discard)

    async def _send(self, text: str) -> None:
        with contextlib.suppress(Exception):
            await self.ws.send(text)

    async def wait_for(self, seq: int, timeout: float) -> bool:
        """True once this socket has shown turn `seq`."""
        deadline = time.monotonic() + timeout
        while self.seen < seq:
            left = min(deadline - time.monotonic(), self.bench.time_left())
            if left <= 0 or self.bench.stop.is_set():
                return False
            self.changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), timeout=left)
        return True

    def cut(self, seconds: float) -> None:
        """Chaos: drop the connection and stay offline for `seconds`."""
        self.offline_until = time.monotonic() + seconds
        if self.ws is not None:
            self.ws.transport.abort()

    async def close(self) -> None:
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.ws.close(), timeout=2)
        if self.task is not None:
            self.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.task


async def connect_all(bench: Bench, sockets: list[Socket], *, what: str) -> list[Socket]:
    """Opens sockets at --connect-rate per second; waits for each to be ready."""
    interval = 1.0 / bench.config.connect_rate
    started = now()
    for index, sock in enumerate(sockets):
        if not await bench.sleep_until(started + index * interval):
            break
        sock.start()
    budget = 30 + len(sockets) * interval
    waits = [asyncio.wait_for(s.ready.wait(), timeout=budget) for s in sockets if s.task]
    results = await asyncio.gather(*waits, return_exceptions=True)
    failed = sum(isinstance(r, Exception) for r in results) + sum(bool(s.fatal) for s in sockets)
    bench.log(
        f"{what}: {len(sockets) - failed}/{len(sockets)} sockets ready in {now() - started:.1f} s"
    )
    fatal = [s.fatal for s in sockets if s.fatal]
    if fatal:
        raise SystemExit(f"{len(fatal)} sockets refused, e.g. {fatal[0]}")
    return sockets


# --------------------------------------------------------------------------- the full pipeline


class LiveDialogue:
    """One dialogue: its participants' sockets and a driver submitting steps at the pace."""

    def __init__(self, bench: Bench, seeded: SeededDialogue) -> None:
        self.bench, self.seeded = bench, seeded
        self.people = {p.slot: p for p in seeded.participants}
        self.sockets = {p.slot: Socket(bench, p, p.socket_path) for p in seeded.participants}
        self.last = seeded.seq  # last turn this driver saw committed
        self.submitted: dict[int, float] = {}  # seq -> time the POST started
        self.actor: dict[int, str] = {}  # seq -> slot of the partner who submitted it
        self.http_times: list[float] = []
        self.socket_times: list[float] = []  # move frame sent -> the step back on that socket
        self.errors: Counter = Counter()
        self.steps = 0
        self.paused_until = 0.0  # chaos: the participant whose turn it is is offline

    async def drive(self, *, first: float, end: float) -> None:
        pace = self.bench.config.pace
        moment, k = first, 0
        while moment < end and await self.bench.sleep_until(moment):
            slot = "a" if k % 2 == 0 else "b"
            move = "send" if k == 0 else ("mirror" if slot == "b" else "not_quite")
            if await self.step(slot, move, STEP_TEXT.format(k=k)):
                k += 1
            moment = max(moment + pace, now())

    async def step(self, slot: str, move: str, text: str) -> bool:
        sock = self.sockets[slot]
        timeout = self.bench.config.step_timeout
        # Like a person: act once the page shows the previous step (their turn has come).
        if not await sock.wait_for(self.last, timeout):
            sock.request_snapshot()
            if not await sock.wait_for(self.last, timeout):
                self.errors["stalled: previous step never shown to the next actor"] += 1
                return False
        at = sock.at if sock.at >= self.last else self.last
        data = {"move": move, "at": str(at), "token": secrets.token_urlsafe(16), "text": text}
        seq = self.last + 1
        self.submitted.setdefault(seq, now())
        self.actor.setdefault(seq, slot)
        if self.bench.config.moves == "socket" and await self.step_over_socket(sock, data, seq):
            return True
        path = f"/dialogues/{self.seeded.public_id}/move/"
        for attempt in range(5):  # the same form token: a replay saves nothing twice
            try:
                status, took = await self.bench.post(self.people[slot], path, data)
            except Exception as error:
                self.errors[f"http {type(error).__name__} (retried)"] += 1
                await asyncio.sleep(0.5 * 2**attempt)
                continue
            if status == 200:
                self.http_times.append(took)
                self.last = seq
                self.steps += 1
                return True
            self.errors[f"http {status}"] += 1
            if status < 500:
                return False
            await asyncio.sleep(0.5 * 2**attempt)
        return False

    async def step_over_socket(self, sock: Socket, data: dict, seq: int) -> bool:
        """Like the page: the move as a frame over the actor's open socket; success is the step
        arriving on that socket in the group message (nothing else is sent back). False when
        the socket is down or the step did not come back in time: the caller then posts the
        same form (same token) over HTTP, which never saves a step twice."""
        if sock.ws is None:
            return False
        started = now()
        try:
            await sock.ws.send(json.dumps({"type": "move", **data}))
        except Exception as error:
            self.errors[f"socket {type(error).__name__} (fell back to HTTP)"] += 1
            return False
        if not await sock.wait_for(seq, self.bench.config.step_timeout):
            self.errors["socket move not confirmed in time (fell back to HTTP)"] += 1
            return False
        self.socket_times.append(now() - started)
        self.last = seq
        self.steps += 1
        return True


async def run_full(bench: Bench, dialogues: list[LiveDialogue]) -> dict:
    config = bench.config
    sockets = [s for d in dialogues for s in d.sockets.values()]
    # Memory per idle socket: the workers' RSS before and after connecting all but a first
    # few sockets, which warm up (imports, template caches, pools) and aren't counted.
    warm = min(len(sockets) // 2, max(4, len(sockets) // 20))
    await connect_all(bench, sockets[:warm], what="full pipeline (warm-up sockets)")
    await bench.sleep_until(now() + 2)
    before_connect = ProcessSample.take(worker_pids(port=config.port, server_pid=config.server_pid))
    await connect_all(bench, sockets[warm:], what="full pipeline")
    await bench.sleep_until(now() + 3)  # let the snapshots and presence hints settle
    idle = ProcessSample.take(worker_pids(port=config.port, server_pid=config.server_pid))
    counted = len(sockets) - warm
    per_socket = (idle.rss_kib() - before_connect.rss_kib()) / counted if counted else None

    bench.log(
        f"full pipeline: {len(dialogues)} dialogues, one step each every "
        f"{config.pace:g} s, for {config.duration:g} s"
    )
    start = ProcessSample.take(worker_pids(port=config.port, server_pid=config.server_pid))
    begin = now()
    end = begin + config.duration
    bench.stepping.set()
    hosts_at_start = {s: s.host for s in sockets}
    stepping_since = time.monotonic()
    timeline: list[tuple[float, dict]] = []
    watcher = (
        asyncio.create_task(watch_hosts(bench, sockets, timeline, stepping_since))
        if config.served_by
        else None
    )
    drivers = [
        asyncio.create_task(d.drive(first=begin + random.uniform(0, config.pace), end=end))
        for d in dialogues
    ]
    await asyncio.gather(*drivers)
    # Drain: every socket should show its dialogue's last step.
    drain_until = now() + max(10.0, 2 * config.step_timeout)
    await asyncio.gather(
        *[
            s.wait_for(d.last, max(0.0, drain_until - now()))
            for d in dialogues
            for s in d.sockets.values()
        ]
    )
    for s in sockets:
        s.down_at_end = s.ws is None
    stop = ProcessSample.take(worker_pids(port=config.port, server_pid=config.server_pid))
    if watcher is not None:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
    report = {
        "dialogues": len(dialogues),
        "sockets": len(sockets),
        "sockets_per_dialogue": len(sockets) // max(1, len(dialogues)),
        "idle_memory": {
            "rss_before_mib": round(before_connect.rss_kib() / 1024, 1),
            "rss_with_idle_sockets_mib": round(idle.rss_kib() / 1024, 1),
            "kib_per_idle_socket": round(per_socket, 1) if per_socket is not None else None,
            "sockets_counted": counted,
        },
        "server": process_report(start, stop),
        "steps_submitted": sum(d.steps for d in dialogues),
        "http_post": percentiles([t for d in dialogues for t in d.http_times]),
        "socket_move": percentiles([t for d in dialogues for t in d.socket_times]),
        "errors": dict(sum((d.errors for d in dialogues), Counter())),
        "reconnects": sum(s.reconnects for s in sockets),
        # Why sockets reconnected: close code (or error) -> count, split by whether the
        # connection had opened ("TimeoutError, never opened": a handshake over 20 s).
        "closes": dict(
            Counter(
                f"{code}, {'opened' if opened else 'never opened'}"
                for s in sockets
                for _at, code, opened in s.closes
            )
        ),
        "closed_by_server_for_good": sum(s.closed_for_good is not None for s in sockets),
        "not_connected_at_end": sum(s.down_at_end for s in sockets),
        "gaps": sum(s.gaps for s in sockets),
        "stale_deliveries": sum(s.stale for s in sockets),
    }
    if config.served_by:
        report["hosts"] = hosts_report(bench, sockets, hosts_at_start, timeline, stepping_since)
    return report


def open_per_host(sockets: list[Socket]) -> dict[str, int]:
    counts = Counter(s.host or "(not connected)" for s in sockets)
    return dict(sorted(counts.items()))


async def watch_hosts(
    bench: Bench, sockets: list[Socket], timeline: list, since: float, every: float = 5.0
) -> None:
    """Logs the open sockets per host every `every` s while the steps run (cancelled after)."""
    while not bench.stopping():
        counts = open_per_host(sockets)
        timeline.append((round(time.monotonic() - since, 1), counts))
        bench.log("sockets per host: " + ", ".join(f"{h} {c}" for h, c in counts.items()))
        await bench.sleep_until(now() + every)


def hosts_report(
    bench: Bench, sockets: list[Socket], at_start: dict, timeline: list, since: float
) -> dict:
    """Where the sockets were when the steps began and after the drain, which moved, and how
    long a socket whose connection closed during the steps took to be connected again."""
    moved: Counter = Counter()
    gaps, handshakes = [], []
    for s in sockets:
        first, last = at_start.get(s) or "(not connected)", s.host or "(not connected)"
        if first != last:
            moved[f"{first} -> {last}"] += 1
        for closed_at, _code, was_open in s.closes:
            if not was_open or closed_at < since:
                continue
            back = [(t, took) for t, _, took in s.hosts if t > closed_at]
            gaps.append(min(back)[0] - closed_at if back else math.inf)
            if back:
                handshakes.append(min(back)[1])
    finite = [g for g in gaps if g != math.inf]
    return {
        "header": bench.config.served_by,
        "open_per_host_when_steps_began": dict(
            sorted(Counter(h or "(not connected)" for h in at_start.values()).items())
        ),
        "open_per_host_at_end": open_per_host(sockets),
        "moved": dict(moved),
        "sockets_moved": sum(moved.values()),
        "connections_per_host": dict(Counter(h for s in sockets for _, h, _ in s.hosts)),
        "posts_per_host": dict(bench.posts_per_host),
        "closed_during_steps": len(gaps),
        "never_reconnected": len(gaps) - len(finite),
        "time_until_connected_again": percentiles(finite),
        # of that, the successful attempt's handshake (the rest: back-off, failed attempts)
        "handshake_of_the_reconnect": percentiles(handshakes),
        "timeline": timeline,
    }


def check_full(dialogues: list[LiveDialogue], committed: dict[int, list[int]]) -> dict:
    """Every committed turn shown exactly once, in order, by every socket; latencies."""
    latencies, slowest, via_snapshot = [], [], 0
    by_window: dict[int, list[float]] = {}  # latencies by when the step was submitted
    by_socket: dict[str, list[float]] = {}  # the actor's, the other partner's, the therapist's
    start = min((t for d in dialogues for t in d.submitted.values()), default=0.0)
    lost = duplicated = out_of_order = sockets_wrong = lost_while_down = 0
    for d in dialogues:
        turns = committed[d.seeded.pk]
        for seq in turns:
            if seq not in d.submitted:
                continue  # seeded before the run
            times = []
            for slot, s in d.sockets.items():
                arrival = s.arrivals.get(seq)
                if arrival is None:
                    continue
                if arrival[1] == "snapshot":
                    via_snapshot += 1
                times.append(arrival[0] - d.submitted[seq])
                whose = "actor" if slot == d.actor.get(seq) else "other"
                whose = "therapist" if slot == "t" else whose
                by_socket.setdefault(whose, []).append(times[-1])
            latencies += times
            window = int((d.submitted[seq] - start) // LATENCY_WINDOW)
            by_window.setdefault(window, []).extend(times)
            if times and len(times) == len(d.sockets):
                slowest.append(max(times))
        for s in d.sockets.values():
            counts = Counter(s.shown)
            missing = [seq for seq in turns if seq not in counts]
            doubled = [seq for seq, c in counts.items() if c > 1]
            lost += len(missing)
            lost_while_down += len(missing) if s.down_at_end else 0
            duplicated += len(doubled)
            ordered = s.shown == sorted(s.shown)
            out_of_order += not ordered
            sockets_wrong += bool(missing or doubled or not ordered or set(counts) - set(turns))
    return {
        "steps_committed": sum(
            len([t for t in committed[d.seeded.pk] if t in d.submitted]) for d in dialogues
        ),
        "latency_per_socket": percentiles(latencies),
        "latency_until_every_socket": percentiles(slowest),
        "latency_by_socket": {whose: percentiles(v) for whose, v in sorted(by_socket.items())},
        "latency_by_window": {
            f"{w * LATENCY_WINDOW:g}s": percentiles(v) for w, v in sorted(by_window.items())
        },
        "arrived_by_snapshot": via_snapshot,
        "lost": lost,
        # of those, on sockets not connected when the run ended: a page still reconnecting,
        # which shows them once it has (its snapshot), not steps the server lost
        "lost_on_sockets_not_connected_at_end": lost_while_down,
        "duplicated": duplicated,
        "sockets_out_of_order": out_of_order,
        "sockets_not_matching_database": sockets_wrong,
    }


async def verify_pages(bench: Bench, dialogues: list[LiveDialogue]) -> dict[tuple[int, str], list]:
    """Each participant's page over HTTP, as turn ids in page order."""
    limit = asyncio.Semaphore(20)
    pages: dict[tuple[int, str], list] = {}

    async def fetch(d: LiveDialogue, person: Participant) -> None:
        async with limit:
            try:
                status, body, _ = await bench.get(person, person.page_path)
            except Exception as error:
                pages[(d.seeded.pk, person.slot)] = [f"error {type(error).__name__}"]
                return
            pages[(d.seeded.pk, person.slot)] = (
                [int(i) for i in TURN_ID.findall(body)] if status == 200 else [f"http {status}"]
            )

    await asyncio.gather(
        *[fetch(d, p) for d in dialogues for p in d.people.values() if p.page_path]
    )
    return pages


def check_pages(pages: dict, committed: dict[int, list[int]]) -> dict:
    wrong = [key for key, ids in pages.items() if ids != committed[key[0]]]
    return {
        "pages_checked": len(pages),
        "pages_not_matching_database": len(wrong),
        "examples": [f"dialogue {k[0]} {k[1]}: {pages[k][-5:]}" for k in wrong[:5]],
    }


# --------------------------------------------------------------------------- the bare baseline


async def run_baseline(bench: Bench, seeded: list[SeededDialogue], *, road: str) -> dict:
    """road "socket": each message is a frame on the sender's echo socket; "http": a POST."""
    config = bench.config
    probe = seeded[0].participants[0]
    status, _ = await bench.post(probe, "/bench/echo/", {"group": "probe", "n": "0"})
    if status != 204:
        bench.log(
            f"baseline skipped: POST /bench/echo/ gave {status} "
            "(serve bench.asgi:application with DJANGO_SETTINGS_MODULE=bench.settings)"
        )
        return {"skipped": f"POST /bench/echo/ -> {status}; server needs bench.asgi:application"}
    groups = []
    for i, s in enumerate(seeded):
        name = f"{config.run_id}-{i}"
        socks = [Socket(bench, p, f"/ws/bench/echo/{name}/", echo=True) for p in s.participants]
        groups.append((name, s.participants[0], socks))
    sockets = [sock for _, _, socks in groups for sock in socks]
    await connect_all(bench, sockets, what="baseline")
    await bench.sleep_until(now() + 2)
    bench.log(
        f"{road} baseline: {len(groups)} echo groups, one message each every "
        f"{config.pace:g} s, for {config.baseline_duration:g} s"
    )
    pids = worker_pids(port=config.port, server_pid=config.server_pid)
    start = ProcessSample.take(pids)
    sent: dict[str, dict[int, float]] = {name: {} for name, _, _ in groups}
    errors: Counter = Counter()
    begin = now()
    end = begin + config.baseline_duration

    async def send(name: str, person: Participant, sock: Socket, k: int) -> None:
        if road == "socket":
            if sock.ws is None:
                errors["socket down"] += 1
                return
            await sock.ws.send(json.dumps({"n": k}))
            return
        status, _ = await bench.post(person, "/bench/echo/", {"group": name, "n": str(k)})
        if status != 204:
            errors[f"http {status}"] += 1

    async def drive(name: str, person: Participant, sock: Socket) -> None:
        moment, k = begin + random.uniform(0, config.pace), 1
        while moment < end and await bench.sleep_until(moment):
            sent[name][k] = now()
            try:
                await send(name, person, sock, k)
            except Exception as error:
                errors[f"{road} {type(error).__name__}"] += 1
            k += 1
            moment = max(moment + config.pace, now())

    # The sender's own echo socket carries its frames (socks[0] is participants[0]'s).
    await asyncio.gather(*[drive(name, person, socks[0]) for name, person, socks in groups])
    await bench.sleep_until(now() + 2)
    stop = ProcessSample.take(worker_pids(port=config.port, server_pid=config.server_pid))
    latencies, lost, duplicated = [], 0, 0
    for name, _, socks in groups:
        for sock in socks:
            for k, t0 in sent[name].items():
                if k in sock.arrivals:
                    latencies.append(sock.arrivals[k][0] - t0)
                else:
                    lost += 1
            duplicated += sum(c - 1 for c in sock.deliveries.values() if c > 1)
    await asyncio.gather(*[s.close() for s in sockets])
    return {
        "road": road,
        "groups": len(groups),
        "sockets": len(sockets),
        "messages_sent": sum(len(v) for v in sent.values()),
        "latency_per_socket": percentiles(latencies),
        "lost": lost,
        "duplicated": duplicated,
        "errors": dict(errors),
        "server": process_report(start, stop),
    }


# --------------------------------------------------------------------------- page timing


async def time_pages(bench: Bench, long: SeededDialogue, short: SeededDialogue) -> dict:
    result = {}
    for name, seeded in (("page_200_turns", long), (f"page_{short.seq}_turns", short)):
        person = seeded.participants[0]
        times, turns = [], 0
        for _ in range(11):  # the first one warms up
            status, body, took = await bench.get(person, person.page_path)
            if status != 200:
                raise SystemExit(
                    f"GET {person.page_path} gave {status}: is the bench using the "
                    "server's DATABASE_URL and SECRET_KEY, with HTTPS=0?"
                )
            times.append(took)
            turns = len(TURN_ID.findall(body))
        result[name] = {"turns_on_page": turns, **percentiles(times[1:])}
    bench.log(
        "page time (idle server, 10 GETs): "
        + ", ".join(
            f"{k}: median {v['p50_ms']} ms, max {v['max_ms']} ms" for k, v in result.items()
        )
    )
    return result


# --------------------------------------------------------------------------- the run


def machine() -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/cpuinfo").splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem = next(
        (
            line.split(":", 1)[1].strip()
            for line in _read("/proc/meminfo").splitlines()
            if line.startswith("MemTotal")
        ),
        "",
    )
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "kernel": platform.release(),
    }
    with contextlib.suppress(Exception):
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            info["postgresql"] = cursor.fetchone()[0]
            cursor.execute("SHOW max_connections")
            info["postgresql_max_connections"] = int(cursor.fetchone()[0])
    with contextlib.suppress(Exception):
        import redis
        from django.conf import settings

        if settings.REDIS_URL:
            url = settings.REDIS_URL.split(",")[0]
            info["redis"] = redis.Redis.from_url(url).info("server")["redis_version"]
    return info


HTTP_POOL = 500  # the client's HTTP connections at most (pages, posts, the echo)


def raise_open_files(needed: int) -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        soft = hard
    if needed + 200 > soft:
        raise SystemExit(
            f"{needed} sockets need more open files than the limit ({soft}): "
            "raise `ulimit -n` (and the server's) first"
        )
    return soft


async def run(config: Config, seeded: Seed, *, chaos=None) -> dict:
    """The measured phases. `chaos(bench, dialogues)` is run alongside the full pipeline."""
    async with Bench(config) as bench:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, bench.stop.set)
        result: dict = {"events": bench.events}
        usage_before = resource.getrusage(resource.RUSAGE_SELF)
        pids = worker_pids(port=config.port, server_pid=config.server_pid)
        bench.log(f"server workers: {pids or 'NOT FOUND (give --server-pid)'}")
        result["worker_pids_at_start"] = pids
        result["pages"] = await time_pages(bench, seeded.long_dialogue, seeded.dialogues[0])
        chaos_task = None
        dialogues = [LiveDialogue(bench, s) for s in seeded.dialogues]
        result["_dialogues"] = dialogues
        try:
            full_task = asyncio.create_task(run_full(bench, dialogues))
            if chaos is not None:
                chaos_task = asyncio.create_task(chaos(bench, dialogues, full_task))
            result["full"] = await full_task
            if chaos_task is not None:
                result["chaos"] = await chaos_task
            if config.verify_pages:
                bench.log("fetching every participant's page to compare with the database")
                result["_pages"] = await verify_pages(bench, dialogues)
        finally:
            await asyncio.gather(*[s.close() for d in dialogues for s in d.sockets.values()])
        if config.baseline_duration > 0 and not bench.stopping():
            # The run's own road first ("baseline": what the full run is divided by), then the
            # other one for comparison.
            other = "http" if config.moves == "socket" else "socket"
            result["baseline"] = await run_baseline(bench, seeded.dialogues, road=config.moves)
            if not bench.stopping() and "skipped" not in result["baseline"]:
                result["baseline_other"] = await run_baseline(bench, seeded.dialogues, road=other)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        result["bench_client_cpu_seconds"] = round(
            usage.ru_utime + usage.ru_stime - usage_before.ru_utime - usage_before.ru_stime, 1
        )
        result["stopped_early"] = bench.stop.is_set() or bench.time_left() <= 0
    return result


def summarise(result: dict) -> list[str]:
    full, check = result.get("full", {}), result.get("check", {})
    lat = check.get("latency_per_socket", {})
    base = result.get("baseline", {}).get("latency_per_socket", {})
    lines = [
        f"N = {result['config']['n']} dialogues, {full.get('sockets', 0)} sockets, "
        f"pace {result['config']['pace']:g} s, {check.get('steps_committed', 0)} steps",
        f"submit -> each socket: p50 {lat.get('p50_ms')} ms, p95 {lat.get('p95_ms')} ms, "
        f"p99 {lat.get('p99_ms')} ms, max {lat.get('max_ms')} ms ({lat.get('count', 0)} samples)",
        f"lost {check.get('lost')} ({check.get('lost_on_sockets_not_connected_at_end', 0)} on "
        f"the {full.get('not_connected_at_end', 0)} sockets not connected at the end), "
        f"duplicated {check.get('duplicated')}, sockets not matching "
        f"the database {check.get('sockets_not_matching_database')}",
    ]
    sockets = check.get("latency_by_socket") or {}
    if sockets:
        lines.append(
            "p50/p99 ms by socket: "
            + ", ".join(f"{k} {v.get('p50_ms')}/{v.get('p99_ms')}" for k, v in sockets.items())
        )
    windows = check.get("latency_by_window") or {}
    if windows:
        lines.append(
            "p50/p99 ms by when the step was sent: "
            + ", ".join(f"{k} {v.get('p50_ms')}/{v.get('p99_ms')}" for k, v in windows.items())
        )
    if base.get("count"):
        for key, ratio in (("baseline", "median_ratio"), ("baseline_other", "median_ratio_other")):
            echo = result.get(key, {})
            echo_lat = echo.get("latency_per_socket", {})
            if echo_lat.get("count"):
                lines.append(
                    f"bare echo over {echo.get('road')}: p50 {echo_lat['p50_ms']} ms, p99 "
                    f"{echo_lat['p99_ms']} ms; full median / this median = {result.get(ratio)}"
                    + (" (the run's own road)" if key == "baseline" else "")
                )
    else:
        lines.append(f"baseline: {result.get('baseline', {}).get('skipped', 'not run')}")
    for pid, w in full.get("server", {}).get("workers", {}).items():
        lines.append(
            f"worker {pid}: CPU {w['cpu_seconds']} s ({w['cpu_percent_of_one_core']}% "
            f"of a core), RSS {w['rss_mib']} MiB, peak {w['peak_rss_mib']} MiB "
            f"{w['note']}"
        )
    server = full.get("server", {})
    worker_cpu = sum(w["cpu_seconds"] or 0 for w in server.get("workers", {}).values())
    steps = check.get("steps_committed") or 0
    machine = server.get("machine", {})
    services = server.get("services", {})
    backing = sum(services.get(name, 0.0) for name in SERVICES)
    if steps:
        lines.append(f"server CPU per step (all workers): {1000 * worker_cpu / steps:.1f} ms")
        if services:
            lines.append(
                f"server CPU per step (workers + PostgreSQL + Redis): "
                f"{1000 * (worker_cpu + backing) / steps:.1f} ms (PostgreSQL "
                f"{1000 * services.get('postgres', 0.0) / steps:.1f}, Redis "
                f"{1000 * services.get('redis-server', 0.0) / steps:.1f}); the bench client "
                f"used {services.get('bench client', 0.0):.1f} CPU s meanwhile"
            )
    if machine:
        lines.append(
            f"machine during the steps: {machine['busy_percent']}% busy (all processes: "
            f"{machine['cpu_seconds_all_processes']} CPU s, workers {worker_cpu:.1f}), "
            f"steal {machine['steal_percent']}%, iowait {machine['iowait_percent']}%"
        )
    idle = full.get("idle_memory", {})
    lines.append(f"memory per idle socket: {idle.get('kib_per_idle_socket')} KiB")
    if full.get("reconnects"):
        lines.append(f"reconnects {full['reconnects']}: {full.get('closes')}")
    page = result.get("pages", {}).get("page_200_turns", {})
    lines.append(f"200-turn page: median {page.get('p50_ms')} ms, max {page.get('max_ms')} ms")
    if "page_check" in result:
        lines.append(
            f"pages checked {result['page_check']['pages_checked']}, not matching "
            f"the database {result['page_check']['pages_not_matching_database']}"
        )
    hosts = full.get("hosts")
    if hosts:
        back = hosts["time_until_connected_again"]
        lines += [
            f"sockets per host when the steps began: {hosts['open_per_host_when_steps_began']}",
            f"sockets per host at the end: {hosts['open_per_host_at_end']}",
            f"moved: {hosts['sockets_moved']} {hosts['moved']}; closed during the steps "
            f"{hosts['closed_during_steps']}, never reconnected {hosts['never_reconnected']}",
            f"connected again after: p50 {back.get('p50_ms')} ms, "
            f"max {back.get('max_ms')} ms ({back.get('count', 0)} closes); its handshake: "
            f"p50 {hosts['handshake_of_the_reconnect'].get('p50_ms')} ms, "
            f"max {hosts['handshake_of_the_reconnect'].get('max_ms')} ms",
            f"POSTs per host: {hosts['posts_per_host']}",
        ]
    lines.append(f"bench client CPU {result.get('bench_client_cpu_seconds')} s")
    return lines


def markdown_row(result: dict) -> str:
    check, full = result.get("check", {}), result.get("full", {})
    lat = check.get("latency_per_socket", {})
    base = result.get("baseline", {}).get("latency_per_socket", {})
    workers = full.get("server", {}).get("workers", {}).values()
    cpu = " / ".join(f"{w['cpu_percent_of_one_core']}%" for w in workers)
    peak = " / ".join(f"{w['peak_rss_mib']}" for w in workers)
    page = result.get("pages", {}).get("page_200_turns", {})
    return (
        f"| {result['started_at'][:16]} | {result['config']['n']} | {full.get('sockets', 0)} "
        f"| {result['config']['pace']:g} s | {check.get('steps_committed', 0)} "
        f"| {lat.get('p50_ms')} | {lat.get('p95_ms')} | {lat.get('p99_ms')} "
        f"| {lat.get('max_ms')} | {check.get('lost')} | {check.get('duplicated')} "
        f"| {base.get('p50_ms', '-')} ({result.get('baseline', {}).get('road', 'http')}) "
        f"| {result.get('median_ratio', '-')} | {cpu} | {peak} "
        f"| {full.get('idle_memory', {}).get('kib_per_idle_socket')} | {page.get('p50_ms')} "
        f"| {result['config'].get('label', '')} |"
    )


MARKDOWN_HEADER = (
    "| started (UTC) | N | sockets | pace | steps | p50 ms | p95 ms | p99 ms | max ms | lost "
    "| dup | echo p50 ms | full/echo | CPU per worker | peak MiB per worker | KiB/idle socket "
    "| 200-turn page ms | label |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def write_results(result: dict, *, out: Path | None, markdown: Path | None) -> None:
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        runs = json.loads(out.read_text()) if out.exists() and out.read_text().strip() else []
        runs.append(result)
        out.write_text(json.dumps(runs, indent=2) + "\n")
    if markdown:
        markdown.parent.mkdir(parents=True, exist_ok=True)
        if not markdown.exists():
            markdown.write_text(MARKDOWN_HEADER)
        with markdown.open("a") as f:
            f.write(markdown_row(result) + "\n")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the running server")
    p.add_argument("--n", type=int, default=10, help="live dialogues")
    p.add_argument(
        "--pace", type=float, default=20.0, help="seconds between two steps of one dialogue"
    )
    p.add_argument("--duration", type=float, default=120.0, help="seconds of stepping")
    p.add_argument(
        "--baseline-duration",
        type=float,
        default=60.0,
        help="seconds of the bare echo baseline (0: skip it)",
    )
    p.add_argument(
        "--connect-rate",
        type=float,
        default=100.0,
        help="new websockets per second while connecting",
    )
    p.add_argument(
        "--step-timeout",
        type=float,
        default=10.0,
        help="seconds an actor waits to see the previous step before giving up",
    )
    p.add_argument(
        "--max-time",
        type=float,
        default=1800.0,
        help="hard limit on the whole run, in seconds (the run stops by itself)",
    )
    p.add_argument(
        "--max-connections", type=int, default=8000, help="refuse to open more websockets than this"
    )
    p.add_argument(
        "--server-pid",
        type=int,
        action="append",
        help="uvicorn's parent pid, or an ancestor such as make's; repeat it for several "
        "servers (default: found by the listening port)",
    )
    p.add_argument(
        "--served-by-header",
        default="",
        metavar="NAME",
        help="behind a balancer that names the host in this response header (HAProxy: "
        "http-response set-header X-Served-By %%[srv_name]): count sockets and POSTs per host, "
        "log the open sockets per host every 5 s while the steps run, report which moved",
    )
    p.add_argument(
        "--verify-pages",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="fetch every partner's page at the end and compare with the database",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "results.json",
        help="JSON file the result is appended to",
    )
    p.add_argument(
        "--markdown",
        type=Path,
        default=REPO / "bench" / "results.md",
        help="Markdown table a row is appended to",
    )
    p.add_argument("--label", default="", help="a note stored with the result")
    p.add_argument("--keep-data", action="store_true", help="don't delete the seeded data")
    p.add_argument(
        "--delete-all-bench-data",
        action="store_true",
        help="only delete every bench run's seeded data (after aborted runs)",
    )
    p.add_argument("--seed", type=int, help="random seed (start offsets)")
    p.add_argument(
        "--consoles",
        type=float,
        default=1.0,
        help="share of the dialogues with their therapist's console open (default 1: all)",
    )
    p.add_argument(
        "--moves",
        choices=("socket", "http"),
        default="socket",
        help="submit steps like the page: over the actor's open socket (a 'move' frame), "
        "falling back to the form's HTTP post while it is down (socket); or always HTTP",
    )
    return p


def configure(args) -> Config:
    parts = urlsplit(args.url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("The benchmark only talks to a server on this machine (127.0.0.1).")
    return Config(
        url=args.url.rstrip("/"),
        n=args.n,
        pace=args.pace,
        duration=args.duration,
        baseline_duration=args.baseline_duration,
        connect_rate=args.connect_rate,
        step_timeout=args.step_timeout,
        max_time=args.max_time,
        verify_pages=args.verify_pages,
        port=parts.port or 80,
        server_pid=args.server_pid,
        run_id=secrets.token_hex(3),
        label=args.label,
        served_by=args.served_by_header,
        moves=args.moves,
        consoles=args.consoles,
    )


def prepare(args, config: Config) -> tuple[Seed, dict]:
    """Django, limits, seeding: everything before the event loop starts."""
    django_setup()
    if args.seed is not None:
        random.seed(args.seed)
    consoles = round(args.n * args.consoles)
    sockets = args.n * 2 + consoles  # two partners, and the couple's therapist if open
    if sockets > args.max_connections:
        raise SystemExit(f"{sockets} sockets > --max-connections {args.max_connections}")
    raise_open_files(sockets + HTTP_POOL)  # the sockets, and the HTTP pool at its fullest
    info = machine()
    print(f"machine: {info}", flush=True)
    print(f"seeding {args.n} couples (run {config.run_id})…", flush=True)
    seeded = seed(args.n, run_id=config.run_id, consoles=consoles)
    print(f"seeded in {seeded.seconds:.1f} s", flush=True)
    return seeded, info


def finish(result: dict, seeded: Seed) -> dict:
    """Checks against the database, after the event loop has stopped."""
    dialogues = result.pop("_dialogues", [])
    pages = result.pop("_pages", None)
    committed = committed_turns([d.seeded.pk for d in dialogues])
    if dialogues:
        result["check"] = check_full(dialogues, committed)
    if pages is not None:
        result["page_check"] = check_pages(pages, committed)
    full_p50 = result.get("check", {}).get("latency_per_socket", {}).get("p50_ms")
    for key, ratio in (("baseline", "median_ratio"), ("baseline_other", "median_ratio_other")):
        base_p50 = result.get(key, {}).get("latency_per_socket", {}).get("p50_ms")
        if full_p50 and base_p50:
            result[ratio] = round(full_p50 / base_p50, 2)
    return result


def main(argv: list[str] | None = None, *, chaos=None, extra: dict | None = None) -> dict:
    args = parser().parse_args(argv)
    if args.delete_all_bench_data:
        django_setup()
        print(f"deleted {delete_seed(run_id=None)} bench users and their data")
        return {}
    config = configure(args)
    seeded, info = prepare(args, config)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    result: dict = {}
    try:
        result = asyncio.run(run(config, seeded, chaos=chaos))
    except BaseException as error:  # still report what was measured, then re-raise
        result["error"] = f"{type(error).__name__}: {error}"
        raise
    finally:
        result.update(
            {
                "started_at": started_at,
                "run_id": config.run_id,
                "command": " ".join(["python", *sys.argv]),
                "config": {k: v for k, v in vars(config).items() if k != "run_id"},
                "machine": info,
                "setup_seconds": round(seeded.seconds, 1),
                **(extra or {}),
            }
        )
        result = finish(result, seeded)
        if not args.keep_data:
            delete_seed_soon(run_id=config.run_id, session_keys=seeded.session_keys)
    print("\n".join(["", "=== result ===", *summarise(result)]), flush=True)
    write_results(result, out=args.out, markdown=args.markdown)
    if args.out:
        print(f"appended to {args.out}" + (f" and {args.markdown}" if args.markdown else ""))
    return result


if __name__ == "__main__":
    main()
