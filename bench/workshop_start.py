#!/usr/bin/env python
"""The start of a workshop practice alone: seeds N ready couples (bench/workshop.py's seed)
straight into DATABASE_URL, times `practice_run` for them, counts its statements by kind
and their time in PostgreSQL (`--profile`: cProfile's 30 costliest calls too), and deletes
what it seeded. Run by hand; see docs/performance.md ("Workshops").
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import pstats
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.benchmark import django_setup  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=60, help="couples")
    p.add_argument("--profile", action="store_true")
    args = p.parse_args(argv)
    django_setup()
    from django.db import connection

    from bench import workshop as bench
    from therapists.workshops import services

    run_id = f"s{int(time.time())}"
    seeded = bench.seed(args.n, run_id=run_id)
    statements: list[tuple[str, float]] = []

    def timed(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            statements.append((sql, time.perf_counter() - started))

    try:
        _segment, run = services.segment_start(
            workshop=seeded["workshop"], segment_public_id=seeded["segment"].public_id
        )
        assert run is not None
        profile = cProfile.Profile() if args.profile else None
        with connection.execute_wrapper(timed):
            started = time.perf_counter()
            if profile is not None:
                profile.enable()
            run = services.practice_run(run_id=run.pk)
            if profile is not None:
                profile.disable()
            seconds = time.perf_counter() - started
        result = {
            "n": args.n,
            "started": run.started,
            "ms": round(1000 * seconds, 1),
            "statements": len(statements),
            "database_ms": round(1000 * sum(t for _s, t in statements), 1),
        }
        print(result)
        kinds: collections.Counter[str] = collections.Counter()
        for sql, _t in statements:
            words = sql.split()
            savepoint = words[0] in ("SAVEPOINT", "RELEASE")  # each has its own name
            kinds[words[0] if savepoint else " ".join(words[:3])[:60]] += 1
        for kind, count in kinds.most_common(12):
            print(f"{count:5d}  {kind}")
        if profile is not None:
            pstats.Stats(profile).sort_stats("cumulative").print_stats(30)
        return result
    finally:
        bench.delete_seed(run_id)


if __name__ == "__main__":
    main()
