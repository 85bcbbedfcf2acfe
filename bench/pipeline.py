#!/usr/bin/env python
"""Two statements of a transaction in one round trip (psycopg's pipeline mode) or two.

    .venv/bin/python bench/pipeline.py postgres://postgres@127.0.0.1:5432/imago_stepcost

A move's transaction locks the session row, then looks its form's token up among the turns:
two round trips. psycopg's pipeline mode (`Connection.pipeline()`) sends both at once and each
still reads with its own snapshot (the token's read sees a replay committed while the lock
waited). This times both ways on temporary tables shaped like ours, BEGIN and COMMIT
included, with client-side binding as Django's backend: wall and CPU of this process, median
of 1,500 transactions each, alternating.
"""

from __future__ import annotations

import statistics
import sys
import time

import psycopg

LOCK = "SELECT * FROM bench_session WHERE public_id = %s FOR UPDATE"
TOKEN = "SELECT id FROM bench_turn WHERE session_id = %s AND client_token = %s"


def main() -> None:
    # Client-side binding, as Django's backend uses it (DB_SERVER_SIDE_BINDING off).
    conn = psycopg.connect(
        sys.argv[1] if len(sys.argv) > 1 else "", cursor_factory=psycopg.ClientCursor
    )
    with conn.transaction():
        conn.execute(
            "CREATE TEMP TABLE bench_session (id serial PRIMARY KEY, public_id text UNIQUE,"
            " seq int, state jsonb)"
        )
        conn.execute(
            "CREATE TEMP TABLE bench_turn (id serial PRIMARY KEY, session_id int,"
            " client_token text, UNIQUE (session_id, client_token))"
        )
        conn.execute("INSERT INTO bench_session (public_id, seq, state) VALUES ('p', 1, '{}')")
    token = "x" * 22

    def two_trips() -> None:
        with conn.transaction():
            conn.execute(LOCK, ("p",)).fetchall()
            conn.execute(TOKEN, (1, token)).fetchall()

    def one_trip() -> None:
        with conn.transaction():
            with conn.pipeline():
                lock = conn.execute(LOCK, ("p",))
                found = conn.execute(TOKEN, (1, token))
            lock.fetchall()
            found.fetchall()

    ways = {"two round trips": two_trips, "one (pipeline)": one_trip}
    wall: dict[str, list[float]] = {name: [] for name in ways}
    cpu: dict[str, list[float]] = {name: [] for name in ways}
    for _ in range(5):
        for name, run in ways.items():
            for _ in range(300):
                started, used = time.perf_counter(), time.process_time()
                run()
                wall[name].append((time.perf_counter() - started) * 1e6)
                cpu[name].append((time.process_time() - used) * 1e6)
    for name in ways:
        print(
            f"{name:16} wall median {statistics.median(wall[name]):5.0f} µs, "
            f"CPU median {statistics.median(cpu[name]):4.0f} µs"
        )


if __name__ == "__main__":
    main()
