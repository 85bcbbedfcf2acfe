#!/usr/bin/env python
"""Instructions one step costs in this process, counted by valgrind's callgrind: the same on a
busy machine as on a quiet one, so two versions of the code can be compared to a few per cent
where timings on a shared machine swing by twenty.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imago_stepcost \
        .venv/bin/python bench/step_instructions.py [--steps 20]

Runs this file twice under `valgrind --tool=callgrind` (Debian's valgrind): once making only
the warm-up moves, once making `--steps` more, each move as `bench/step_cost.py`'s "move" (the
one door's transaction and its render for the three audiences, in this process); the
difference divided by the steps is the instructions of one move, everything else (start-up,
the couple made and deleted) cancelling out. Run it from each tree to compare, with the same
database. The database server's own work is not counted (its process isn't under valgrind).
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
WARM_UP = 7  # every move of the cycle made once, each audience's render warmed


def moves(count: int, *, road: str, console: bool) -> None:
    """In the child: a couple and a dialogue, the warm-up moves, then `count` moves."""
    sys.path.insert(0, str(REPO))
    from bench import step_cost

    step_cost.setup()
    people, session, cleanup = step_cost.dialogue_for_bench()
    alex, sam, therapist = people
    script = list(itertools.islice(step_cost.move_script(alex, sam), WARM_UP + count))
    try:
        if road == "socket":  # as the page sends them, through the ASGI app to the sockets
            paths = {
                alex.pk: f"/ws/dialogues/{session.public_id}/",
                sam.pk: f"/ws/dialogues/{session.public_id}/",
                therapist.pk: f"/ws/therapist/dialogues/{session.public_id}/",
            }
            step_cost.socket_moves(
                plan=lambda steps: iter(script),
                paths=paths if console else {alex.pk: paths[alex.pk], sam.pk: paths[sam.pk]},
                people=people if console else [alex, sam],
                steps=len(script),
                parts=False,
            )
            return
        step_cost.pages_open(session, [alex, sam], console=console)  # no sockets here
        for user, name, payload in script:
            result = step_cost.move_made(session, user, name, payload)
            assert result.fragments, "the step was not rendered once per audience"
    finally:
        cleanup()


def counted(count: int, *, road: str, console: bool) -> int:
    """Instructions of a child making `count` moves after the warm-up."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        sys.exit("valgrind is needed (Debian's package valgrind)")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "callgrind.out"
        run = subprocess.run(  # noqa: S603 (our own interpreter and this file)
            [
                valgrind,
                "--tool=callgrind",
                f"--callgrind-out-file={out}",
                sys.executable,
                __file__,
                "--child",
                str(count),
                "--road",
                road,
                "--console" if console else "--no-console",
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        found = re.search(r"Collected : (\d+)", run.stderr)
        if run.returncode != 0 or found is None:
            sys.exit(f"the counted run failed ({run.returncode}):\n{run.stderr[-2000:]}")
        return int(found.group(1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=20, help="moves counted (default 20)")
    parser.add_argument(
        "--road",
        choices=("move", "socket"),
        default="move",
        help="move: the one door and its render in this process (default); socket: a move frame"
        " through the ASGI application and the channel layer to the three sockets",
    )
    parser.add_argument(
        "--console",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the therapist's console open too (default), or only the partners' pages",
    )
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        moves(args.child, road=args.road, console=args.console)
        return
    if not 1 <= args.steps <= 200:
        parser.error("--steps: 1 to 200")
    base = counted(0, road=args.road, console=args.console)
    more = counted(args.steps, road=args.road, console=args.console)
    per_step = (more - base) / args.steps
    n = 3 if args.console else 2
    what = {"move": f"transaction + render for {n} audiences", "socket": f"frame to {n} sockets"}
    print(f"start-up and warm-up: {base / 1e6:,.1f} M instructions")
    print(f"one {args.road} ({what[args.road]}): {per_step / 1e6:,.2f} M instructions")


if __name__ == "__main__":
    main()
