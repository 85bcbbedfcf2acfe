"""Where a step's time goes on the whole server: py-spy's samples of the workers, in parts.

Record each worker while the bench steps (py-spy is not a dependency: `pip install py-spy`
into the virtualenv by hand; `--gil` keeps only the thread holding the interpreter lock,
that is Python's CPU, not threads waiting on PostgreSQL or Redis):

    py-spy record -p WORKER_PID -d 60 -r 200 --gil --nonblocking -f raw -o prof-PID.txt

then give the files, the steps made in those seconds and the workers' CPU per step (the
bench prints it):

    python bench/profile_parts.py prof-*.txt --seconds 60 --rate 200 --steps 3000 --cpu 8.86

Each sample goes to the first part whose pattern one of its frames matches (the order
below: a render inside the move counts as render). Samples whose stack py-spy lost the
root of are shared out in proportion, and so are the samples it failed to read (its
"Errors", about a fifth on a busy worker): each part is its share of the workers' CPU.
"""

from __future__ import annotations

import argparse
import re
from collections import Counter

PARTS = [
    ("render: the audiences' fragments", r"render_change \(dialogues"),
    ("who listens (one Redis read)", r"audiences_listening"),
    ("hand-over to the publisher (live.send)", r"change_published"),
    ("move: the row locked, access checked", r"_locked \(dialogues"),
    ("move: the turn built, encrypted, inserted", r"_append_turn"),
    ("move: the session's UPDATE", r"update \(live/prepared"),
    ("move: the rest of session_change (decision, token, progress, COMMIT)", r"session_change"),
    ("database thread: the hop there and back, the rest", r"_worker \(concurrent"),
    ("publish: msgpack, Fernet, PUBLISH", r"_publisher|_publish \(live|group_send"),
    ("receive: the pub/sub message, decrypted per socket", r"channels_redis/pubsub|RESP3Parser"),
    ("sockets: keepalive pings and pongs", r"keepalive|handle_pong|send_ping"),
    (
        "sockets: a move frame in (parse, consumer)",
        r"DialogueConsumer\.(move|receive)|websocket_receive|Frame\.parse|Protocol\.parse",
    ),
    (
        "sockets: fragments out (dispatch, pick, send)",
        r"dialogue_changed|InstanceSessionWrapper\.send|SansIOProtocol\.send|_send_all|dispatch",
    ),
    ("event loop: the rest (ticks, timers, uvloop)", r"Runner\.run|Thread\.run"),
]


def parts(files: list[str]) -> tuple[Counter, int]:
    counted: Counter = Counter()
    lost = 0
    for name in files:
        with open(name) as f:
            for line in f:
                stack, _, n = line.rstrip().rpartition(" ")
                if not stack:
                    continue
                for part, pattern in PARTS:
                    if re.search(pattern, stack):
                        counted[part] += int(n)
                        break
                else:
                    lost += int(n)
    return counted, lost


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--seconds", type=float, required=True, help="how long py-spy recorded")
    parser.add_argument("--rate", type=float, default=200, help="py-spy's samples a second")
    parser.add_argument("--steps", type=int, required=True, help="steps made meanwhile")
    parser.add_argument("--cpu", type=float, required=True, help="workers' CPU a step, ms")
    args = parser.parse_args()
    counted, lost = parts(args.files)
    seen = sum(counted.values())
    held_us = (seen + lost) / args.rate / args.steps * 1e6
    print(
        f"lock held in the samples read: {held_us:,.0f} µs a step ({seen + lost} samples, "
        f"{lost} rootless); parts scaled to the workers' {args.cpu * 1000:,.0f} µs"
    )
    for part, n in counted.most_common():
        print(f"{n / seen * args.cpu * 1000:8,.0f} µs {100 * n / seen:5.1f} %  {part}")


if __name__ == "__main__":
    main()
