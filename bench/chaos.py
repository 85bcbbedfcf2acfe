#!/usr/bin/env python
"""Chaos run: a benchmark run (bench/benchmark.py) with three accidents in the middle.

While N dialogues step along (times counted from the first step):

- at --kill-worker-at s: SIGKILL one uvicorn worker process. Its clients' sockets drop; they
  reconnect to the same port and land on a live worker (uvicorn's supervisor also starts a
  new worker); in-flight posts are retried with the same form token, which saves nothing
  twice.
- at --redis-at s: restart Redis: `redis-cli -p PORT shutdown nosave`, --redis-down-seconds
  (10) of outage, then the --redis-start-command. The dialogues go on stepping all the while
  (pages and moves work from PostgreSQL), so steps are made during the outage and in the
  seconds after Redis is back (the review's timing: down 10 s, a move ~8 s after the start),
  and every one must reach every socket. Redis is shared by everything on this machine, so the
  default is --redis dry-run (print the commands only); --redis restart really does it;
  --redis skip.
- at --cut-at s: cut one client off for --cut-seconds (its socket is dropped and it stays
  offline; it may be the one whose turn it is, and its dialogue then waits for it).

After recovery, every step committed to the database must be shown exactly once, in order,
by every participant's socket and on every participant's page, fetched over HTTP at the end.
Exits with status 1 if not. Every other option is the benchmark's (see --help there); the
defaults differ: --baseline-duration 0, results in bench/chaos-results.{json,md}.

    python bench/chaos.py --url http://127.0.0.1:8000 --n 20 --pace 2 --duration 120
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import signal
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import benchmark  # noqa: E402

REDIS_START = (
    'redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" '
    "--appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log"
)


def chaos_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument(
        "--kill-worker-at",
        type=float,
        default=15.0,
        help="seconds after the first step: SIGKILL one worker (negative: never)",
    )
    p.add_argument(
        "--redis",
        choices=["restart", "dry-run", "skip"],
        default="dry-run",
        help="restart Redis for real, only print the commands, or skip it",
    )
    p.add_argument("--redis-at", type=float, default=35.0)
    p.add_argument(
        "--redis-down-seconds",
        type=float,
        default=10.0,
        help="how long Redis stays down before it is started again",
    )
    p.add_argument("--redis-port", type=int, default=6379)
    p.add_argument("--redis-start-command", default=REDIS_START)
    p.add_argument(
        "--cut-at",
        type=float,
        default=55.0,
        help="seconds after the first step: cut one client off (negative: never)",
    )
    p.add_argument("--cut-seconds", type=float, default=30.0)
    p.add_argument("--chaos-help", action="store_true", help="this help")
    return p


async def _run(*command: str, timeout: float = 15) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout=timeout)
    except TimeoutError:
        process.kill()
        return -1, "timed out"
    return process.returncode, out.decode(errors="replace").strip()


async def _redis_up(port: int) -> bool:
    code, out = await _run("redis-cli", "-p", str(port), "ping", timeout=3)
    return code == 0 and out == "PONG"


async def _all_connected(sockets, bench, *, limit: float = 60.0) -> float | None:
    """Seconds until every socket (not cut off) is connected and has had its snapshot."""
    started = time.monotonic()
    while time.monotonic() - started < limit and not bench.stopping():
        if all(s.ws is not None or s.offline_until > time.monotonic() for s in sockets):
            return round(time.monotonic() - started, 2)
        await asyncio.sleep(0.1)
    return None


def make_chaos(options):
    async def chaos(bench, dialogues, full_task) -> dict:
        config = bench.config
        sockets = [s for d in dialogues for s in d.sockets.values()]
        actions: list[dict] = []
        stepping = asyncio.create_task(bench.stepping.wait())
        await asyncio.wait([stepping, full_task], return_when=asyncio.FIRST_COMPLETED)
        stepping.cancel()
        if full_task.done():
            return {"actions": actions, "note": "the run ended before any accident"}
        begin = benchmark.now()

        async def kill_worker() -> dict:
            pids = benchmark.worker_pids(port=config.port, server_pid=config.server_pid)
            if len(pids) < 2:
                bench.log(f"kill worker: only {pids} found; not killing the only worker")
                return {"action": "kill worker", "skipped": f"workers found: {pids}"}
            victim = random.choice(pids)
            reconnects = sum(s.reconnects for s in sockets)
            os.kill(victim, signal.SIGKILL)
            bench.log(f"kill worker: SIGKILL {victim} (workers were {pids})")
            await asyncio.sleep(0.5)
            back = await _all_connected(sockets, bench)
            replaced, started = None, time.monotonic()
            while time.monotonic() - started < 30:
                now_pids = benchmark.worker_pids(port=config.port, server_pid=config.server_pid)
                if victim not in now_pids and len(now_pids) >= len(pids):
                    replaced = now_pids
                    break
                await asyncio.sleep(0.2)
            bench.log(
                f"kill worker: every client connected again after {back} s; workers now {replaced}"
            )
            return {
                "action": "kill worker",
                "pid": victim,
                "workers_before": pids,
                "workers_after": replaced,
                "clients_back_after_s": back,
                "reconnects": sum(s.reconnects for s in sockets) - reconnects,
            }

        async def restart_redis() -> dict:
            port = str(options.redis_port)
            start = shlex.split(options.redis_start_command)
            if options.redis == "dry-run":
                bench.log(
                    f"redis (dry run): would run `redis-cli -p {port} shutdown nosave` "
                    f"then `{options.redis_start_command}`"
                )
                return {"action": "restart redis", "dry_run": True}
            reconnects = sum(s.reconnects for s in sockets)
            code, out = await _run("redis-cli", "-p", port, "shutdown", "nosave")
            down_at = time.monotonic()
            while await _redis_up(options.redis_port) and time.monotonic() - down_at < 5:
                await asyncio.sleep(0.1)
            bench.log(
                f"redis: shut down ({code} {out!r}); starting it again in "
                f"{options.redis_down_seconds:g} s"
            )
            await asyncio.sleep(max(0.0, options.redis_down_seconds - (time.monotonic() - down_at)))
            code, out = await _run(*start)
            started_at = time.monotonic()
            up = False
            while time.monotonic() - started_at < 15:
                if up := await _redis_up(options.redis_port):
                    break
                await asyncio.sleep(0.1)
            outage = round(time.monotonic() - down_at, 2)
            bench.log(
                f"redis: {'up again' if up else 'NOT BACK'} after {outage} s "
                f"(start command: {code} {out!r})"
            )
            await asyncio.sleep(1)
            back = await _all_connected(sockets, bench)
            # The steps made from here on (every dialogue steps every --pace s) are the ones
            # the review saw lost ~8 s after the start: the final check covers them.
            bench.log(f"redis: steps go on; {time.monotonic() - started_at:.1f} s since the start")
            return {
                "action": "restart redis",
                "up_again": up,
                "down_s": options.redis_down_seconds,
                "outage_s": outage,
                "clients_back_after_s": back,
                "reconnects": sum(s.reconnects for s in sockets) - reconnects,
            }

        async def cut_client() -> dict:
            dialogue = random.choice(dialogues)
            sock = dialogue.sockets["b"]
            sock.cut(options.cut_seconds)
            bench.log(
                f"cut off: partner b of dialogue {dialogue.seeded.pk} for {options.cut_seconds:g} s"
            )
            return {
                "action": "cut client",
                "dialogue": dialogue.seeded.pk,
                "seconds": options.cut_seconds,
            }

        plan = sorted(
            (at, action)
            for at, action in (
                (options.kill_worker_at, kill_worker),
                (options.redis_at if options.redis != "skip" else -1, restart_redis),
                (options.cut_at, cut_client),
            )
            if at >= 0
        )
        for at, action in plan:
            if not await bench.sleep_until(begin + at) or full_task.done():
                bench.log("chaos: the run ended before every accident happened")
                break
            actions.append({"at_s": at, **await action()})
        return {"actions": actions}

    return chaos


def main() -> int:
    options, rest = chaos_parser().parse_known_args()
    if options.chaos_help:
        chaos_parser().print_help()
        return 0
    last = max(
        options.kill_worker_at,
        options.redis_at + options.redis_down_seconds + 10,
        options.cut_at + options.cut_seconds,
    )
    defaults = [
        "--baseline-duration",
        "0",
        "--verify-pages",
        "--duration",
        str(max(120.0, last + 30)),
        "--out",
        str(REPO / "bench" / "chaos-results.json"),
        "--markdown",
        str(REPO / "bench" / "chaos-results.md"),
    ]
    result = benchmark.main(
        [*defaults, *rest], chaos=make_chaos(options), extra={"chaos_options": vars(options)}
    )
    check, pages = result.get("check", {}), result.get("page_check", {})
    ok = (
        bool(check)
        and check.get("lost") == 0
        and check.get("duplicated") == 0
        and check.get("sockets_not_matching_database") == 0
        and pages.get("pages_not_matching_database", 1) == 0
    )
    for action in result.get("chaos", {}).get("actions", []):
        print(f"chaos: {action}")
    print(
        "CHAOS RUN PASSED: every committed step shown exactly once, in order, everywhere"
        if ok
        else "CHAOS RUN FAILED: see the check above"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
