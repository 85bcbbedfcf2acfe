#!/usr/bin/env python
"""Idle soak: live pages left open with nothing happening, against a running server.

Seeds N dialogues with bench/benchmark.py's seeding, opens every participant's websocket
(two partners and the couple's therapist on the live console), sends no step, and holds
them idle for --soak-seconds. The clients behave like the page's script: a socket closed
with 1006/1011/1012/1013 reconnects. Counted over the hold:

- abnormal closes: every close of an open socket that the app did not mean, i.e. any code
  but its own 4401 (logged out), 4403 (forbidden) and 4429 (too many frames): 1006 (no
  close frame), 1011 (the consumer died), 1012 (service restart), 1000, ... ; reported per
  socket-hour (sockets x seconds held / 3600);
- reconnects, and reconnection attempts that failed;
- with --server-log (the file `make serve`'s output goes to): ERROR lines, tracebacks and
  the exceptions they end with, written while the bench connected and held its sockets.

It stops by itself after the hold (or at the hard limit, or on Ctrl-C, still reporting),
talks only to a server on this machine, prints a summary, appends the result to
bench/soak-results.json and a row to bench/soak-results.md, and deletes what it seeded.

    python bench/idle_soak.py --url http://127.0.0.1:8000 --n 20 --soak-seconds 300 \\
        --server-log serve.log
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import secrets
import signal
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import benchmark  # noqa: E402

INTENDED = {4401, 4403, 4429}  # the app's own closes (dialogues/consumers.py)
MAX_SOAK_SECONDS = 6 * 3600
EXCEPTION_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Exit|Interrupt|Timeout))\b")
ERROR_LINE = re.compile(r"^ERROR:|Exception in ASGI application|Internal Server Error")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.ArgumentDefaultsHelpFormatter
    )
    p.add_argument("--url", default="http://127.0.0.1:8000", help="the running server")
    p.add_argument("--n", type=int, default=20, help="dialogues (3 sockets each)")
    p.add_argument("--soak-seconds", type=float, default=300.0, help="seconds to hold them idle")
    p.add_argument("--connect-rate", type=float, default=50.0, help="new websockets per second")
    p.add_argument("--server-log", type=Path, help="the server's output, to count its errors")
    p.add_argument(
        "--server-pid", type=int, help="uvicorn's parent pid (default: found by the listening port)"
    )
    p.add_argument(
        "--report-every", type=float, default=30.0, help="seconds between progress lines"
    )
    p.add_argument(
        "--max-connections", type=int, default=3000, help="refuse to open more websockets than this"
    )
    p.add_argument(
        "--out",
        type=Path,
        default=REPO / "bench" / "soak-results.json",
        help="JSON file the result is appended to",
    )
    p.add_argument(
        "--markdown",
        type=Path,
        default=REPO / "bench" / "soak-results.md",
        help="Markdown table a row is appended to",
    )
    p.add_argument("--label", default="", help="a note stored with the result")
    p.add_argument("--keep-data", action="store_true", help="don't delete the seeded data")
    return p


def server_env(pids: list[int], name: str) -> str | None:
    """A variable of the server's environment as its worker sees it (None: unset or unknown)."""
    for pid in pids:
        try:
            raw = Path(f"/proc/{pid}/environ").read_bytes()
        except OSError:
            continue
        for item in raw.split(b"\0"):
            key, _, value = item.partition(b"=")
            if key.decode(errors="replace") == name:
                return value.decode(errors="replace")
        return None
    return None


def log_size(path: Path | None) -> int:
    try:
        return path.stat().st_size if path else 0
    except OSError:
        return 0


def log_errors(path: Path | None, offset: int) -> dict:
    """What the server wrote from `offset` on: ERROR lines, tracebacks, their exceptions."""
    if path is None:
        return {"skipped": "no --server-log given"}
    try:
        with path.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
    except OSError as error:
        return {"skipped": f"{path}: {error}"}
    lines = text.splitlines()
    exceptions = Counter(m[1] for line in lines if (m := EXCEPTION_LINE.match(line)))
    errors = [line for line in lines if ERROR_LINE.search(line)]
    return {
        "path": str(path),
        "lines": len(lines),
        "error_lines": len(errors),
        "tracebacks": sum("Traceback (most recent call last)" in line for line in lines),
        "exceptions": dict(exceptions.most_common()),
        "examples": errors[:3],
    }


async def soak(config: benchmark.Config, seeded: benchmark.Seed, args) -> dict:
    async with benchmark.Bench(config) as bench:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, bench.stop.set)
        pids = benchmark.worker_pids(port=config.port, server_pid=config.server_pid)
        bench.log(f"server workers: {pids or 'NOT FOUND (give --server-pid)'}")
        timeout = server_env(pids, "REDIS_SOCKET_TIMEOUT")
        bench.log(f"server's REDIS_SOCKET_TIMEOUT: {timeout or 'unset (the default)'}")
        offset = log_size(args.server_log)
        sockets = [
            benchmark.Socket(bench, p, p.socket_path)
            for d in seeded.dialogues
            for p in d.participants
        ]
        try:
            await benchmark.connect_all(bench, sockets, what="idle soak")
            ready = sum(s.ready.is_set() and s.ws is not None for s in sockets)
            begin_at, begin = time.monotonic(), benchmark.now()
            end = begin + args.soak_seconds
            reconnects_before = sum(s.reconnects for s in sockets)
            sample = benchmark.ProcessSample.take(pids)
            bench.log(f"idle soak: holding {len(sockets)} sockets for {args.soak_seconds:g} s")
            while benchmark.now() < end:
                step = min(args.report_every, end - benchmark.now())
                if not await bench.sleep_until(benchmark.now() + step):
                    break
                held = benchmark.now() - begin
                closes = [c for s in sockets for c in s.closes if c[0] >= begin_at and c[2]]
                bench.log(
                    f"idle soak: {held:.0f} s, {len(closes)} closes so far "
                    f"({dict(Counter(str(c[1]) for c in closes))}), "
                    f"{sum(s.ws is not None for s in sockets)}/{len(sockets)} open"
                )
            held = benchmark.now() - begin
            end_at = time.monotonic()
            after = benchmark.ProcessSample.take(
                benchmark.worker_pids(port=config.port, server_pid=config.server_pid)
            )
            stopped_early = held < args.soak_seconds - 1
            open_at_end = sum(s.ws is not None for s in sockets)
            log = log_errors(args.server_log, offset)  # before our own closes reach the log
        finally:
            bench.stop.set()  # our own closes from here on are not counted
            await asyncio.gather(*[s.close() for s in sockets])

    def during_hold(opened: bool) -> list:
        return [
            c for s in sockets for c in s.closes if begin_at <= c[0] <= end_at and c[2] == opened
        ]

    closes = during_hold(True)
    abnormal = [c for c in closes if c[1] not in INTENDED]
    socket_hours = len(sockets) * held / 3600
    return {
        "sockets": len(sockets),
        "sockets_per_dialogue": len(sockets) // max(1, len(seeded.dialogues)),
        "sockets_ready": ready,
        "sockets_open_at_end": open_at_end,
        "held_seconds": round(held, 1),
        "socket_hours": round(socket_hours, 3),
        "abnormal_closes": len(abnormal),
        "abnormal_closes_per_socket_hour": round(len(abnormal) / socket_hours, 1)
        if socket_hours
        else None,
        "closes_by_code": dict(Counter(str(c[1]) for c in closes)),
        "intended_closes": len(closes) - len(abnormal),
        "sockets_with_abnormal_closes": sum(
            any(begin_at <= c[0] <= end_at and c[2] and c[1] not in INTENDED for c in s.closes)
            for s in sockets
        ),
        "reconnects": sum(s.reconnects for s in sockets) - reconnects_before,
        "failed_reconnect_attempts": len(during_hold(False)),
        "closes_before_the_hold": sum(c[0] < begin_at for s in sockets for c in s.closes),
        "server_log": log,
        "server_redis_socket_timeout": timeout,
        "server_channels_prefix": server_env(pids, "CHANNELS_PREFIX"),
        "server": benchmark.process_report(sample, after),
        "stopped_early": stopped_early,
        "events": bench.events,
    }


def summarise(result: dict) -> list[str]:
    soaked, log = result.get("soak", {}), result.get("soak", {}).get("server_log", {})
    lines = [
        f"N = {result['config']['n']} dialogues, {soaked.get('sockets', 0)} sockets "
        f"({soaked.get('sockets_ready')} ready), held idle {soaked.get('held_seconds')} s "
        f"= {soaked.get('socket_hours')} socket-hours"
        + (" (STOPPED EARLY)" if soaked.get("stopped_early") else ""),
        f"abnormal closes: {soaked.get('abnormal_closes')} "
        f"({soaked.get('abnormal_closes_per_socket_hour')} per socket-hour), on "
        f"{soaked.get('sockets_with_abnormal_closes')} sockets; by code "
        f"{soaked.get('closes_by_code')}; closes the app meant: {soaked.get('intended_closes')}",
        f"reconnects {soaked.get('reconnects')}, failed reconnection attempts "
        f"{soaked.get('failed_reconnect_attempts')}, open at the end "
        f"{soaked.get('sockets_open_at_end')}/{soaked.get('sockets')}",
        f"server's REDIS_SOCKET_TIMEOUT: {soaked.get('server_redis_socket_timeout') or 'unset'}",
    ]
    if "skipped" in log:
        lines.append(f"server log: {log['skipped']}")
    elif log:
        lines.append(
            f"server log: {log['error_lines']} error lines, {log['tracebacks']} tracebacks, "
            f"exceptions {log['exceptions']}"
        )
    for pid, w in soaked.get("server", {}).get("workers", {}).items():
        lines.append(
            f"worker {pid}: CPU {w['cpu_seconds']} s ({w['cpu_percent_of_one_core']}% of a "
            f"core), RSS {w['rss_mib']} MiB {w['note']}"
        )
    return lines


def markdown_row(result: dict) -> str:
    soaked = result.get("soak", {})
    log = soaked.get("server_log", {})
    errors = "-" if "skipped" in log else f"{log.get('error_lines')} ({log.get('tracebacks')} tb)"
    return (
        f"| {result['started_at'][:16]} | {result['config']['n']} | {soaked.get('sockets', 0)} "
        f"| {soaked.get('held_seconds')} | {soaked.get('socket_hours')} "
        f"| {soaked.get('abnormal_closes')} | {soaked.get('abnormal_closes_per_socket_hour')} "
        f"| {soaked.get('closes_by_code')} | {soaked.get('reconnects')} | {errors} "
        f"| {soaked.get('server_redis_socket_timeout') or 'unset'} "
        f"| {result['config'].get('label', '')} |"
    )


MARKDOWN_HEADER = (
    "| started (UTC) | N | sockets | held s | socket-hours | abnormal closes "
    "| per socket-hour | by code | reconnects | server log errors | REDIS_SOCKET_TIMEOUT "
    "| label |\n"
    "|---|---|---|---|---|---|---|---|---|---|---|---|\n"
)


def write_results(result: dict, *, out: Path | None, markdown: Path | None) -> None:
    if out:
        runs = json.loads(out.read_text()) if out.exists() and out.read_text().strip() else []
        runs.append(result)
        out.write_text(json.dumps(runs, indent=2) + "\n")
    if markdown:
        if not markdown.exists():
            markdown.write_text(MARKDOWN_HEADER)
        with markdown.open("a") as f:
            f.write(markdown_row(result) + "\n")


def main(argv: list[str] | None = None) -> dict:
    args = parser().parse_args(argv)
    parts = urlsplit(args.url)
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit("The soak only talks to a server on this machine (127.0.0.1).")
    if not 0 < args.soak_seconds <= MAX_SOAK_SECONDS:
        raise SystemExit(f"--soak-seconds must be in (0, {MAX_SOAK_SECONDS}]")
    sockets = args.n * 3
    if sockets > args.max_connections:
        raise SystemExit(f"{sockets} sockets > --max-connections {args.max_connections}")
    config = benchmark.Config(
        url=args.url.rstrip("/"),
        n=args.n,
        pace=0.0,
        duration=args.soak_seconds,
        baseline_duration=0.0,
        connect_rate=args.connect_rate,
        step_timeout=0.0,
        # The hard limit: connecting, the hold, and a minute to spare.
        max_time=60 + 2 * sockets / args.connect_rate + args.soak_seconds + 60,
        verify_pages=False,
        port=parts.port or 80,
        server_pid=args.server_pid,
        run_id=secrets.token_hex(3),
        label=args.label,
    )
    benchmark.django_setup()
    benchmark.raise_open_files(sockets)
    info = benchmark.machine()
    print(f"machine: {info}", flush=True)
    print(f"seeding {args.n} couples (run {config.run_id})…", flush=True)
    seeded = benchmark.seed(args.n, run_id=config.run_id)
    print(f"seeded in {seeded.seconds:.1f} s", flush=True)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    result: dict = {}
    try:
        result["soak"] = asyncio.run(soak(config, seeded, args))
    except BaseException as error:  # still report, then re-raise
        result["error"] = f"{type(error).__name__}: {error}"
        raise
    finally:
        result.update(
            {
                "started_at": started_at,
                "run_id": config.run_id,
                "command": " ".join(["python", *sys.argv]),
                "config": {
                    "url": config.url,
                    "n": config.n,
                    "soak_seconds": args.soak_seconds,
                    "connect_rate": config.connect_rate,
                    "server_log": str(args.server_log) if args.server_log else None,
                    "label": config.label,
                },
                "machine": info,
                "setup_seconds": round(seeded.seconds, 1),
            }
        )
        if not args.keep_data:
            benchmark.delete_seed(run_id=config.run_id, session_keys=seeded.session_keys)
    print("\n".join(["", "=== idle soak ===", *summarise(result)]), flush=True)
    write_results(result, out=args.out, markdown=args.markdown)
    if args.out:
        print(f"appended to {args.out}" + (f" and {args.markdown}" if args.markdown else ""))
    return result


if __name__ == "__main__":
    main()
