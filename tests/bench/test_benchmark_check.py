"""bench/benchmark.py's check of a run: a step missing from a socket that was not connected
when the run ended is told apart from one missing from a connected socket."""

from types import SimpleNamespace

from bench import benchmark


def _socket(shown: list[int], *, down: bool) -> SimpleNamespace:
    return SimpleNamespace(
        shown=shown, arrivals={seq: (1.0 + seq, "update") for seq in shown}, down_at_end=down
    )


def test_steps_missing_from_sockets_still_reconnecting_are_counted_apart():
    dialogue = SimpleNamespace(
        seeded=SimpleNamespace(pk=7),
        submitted={2: 2.5, 3: 3.5},
        actor={2: "a", 3: "b"},
        sockets={
            "a": _socket([1, 2, 3], down=False),
            "b": _socket([1, 2], down=True),  # closed, not back when the run ended
            "t": _socket([1, 3], down=False),  # connected, yet missing step 2
        },
    )
    check = benchmark.check_full([dialogue], {7: [1, 2, 3]})
    assert check["lost"] == 2
    assert check["lost_on_sockets_not_connected_at_end"] == 1
    assert check["sockets_not_matching_database"] == 2
    assert check["duplicated"] == 0
