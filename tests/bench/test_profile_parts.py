"""bench/profile_parts.py puts each py-spy sample in the first part one of its frames names."""

from bench import profile_parts

ROOT = "Thread.run (threading.py:982);_worker (concurrent/futures/thread.py:83)"
MOVE = f"{ROOT};move_submit (dialogues/services.py:200);session_change (dialogues/services.py:900)"


def test_a_render_inside_the_move_counts_as_render_and_a_rootless_stack_as_no_part(tmp_path):
    raw = tmp_path / "prof.txt"
    raw.write_text(
        f"{MOVE};_publish (dialogues/services.py:1);render_change (dialogues/push.py:230) 6\n"
        f"{MOVE};_locked (dialogues/services.py:300) 3\n"
        f"{MOVE} 1\n"
        "Variable._resolve_lookup (django/template/base.py:880) 2\n"
        "\n"
    )
    counted, lost = profile_parts.parts([str(raw)])
    assert counted == {
        "render: the audiences' fragments": 6,
        "move: the row locked, access checked": 3,
        "move: the rest of session_change (decision, token, progress, COMMIT)": 1,
    }
    assert lost == 2


def test_the_parts_are_shares_of_the_workers_cpu(tmp_path, capsys, monkeypatch):
    raw = tmp_path / "prof.txt"
    raw.write_text(f"{MOVE};_locked (dialogues/services.py:300) 1\n{MOVE} 3\n")
    args = ["--seconds", "1", "--rate", "100", "--steps", "2", "--cpu", "8"]
    monkeypatch.setattr("sys.argv", ["profile_parts", str(raw), *args])
    profile_parts.main()
    out = capsys.readouterr().out
    assert "lock held in the samples read: 20,000 µs a step" in out  # 4 samples / 100 Hz / 2
    assert "   2,000 µs  25.0 %  move: the row locked" in out  # a quarter of 8 ms
    assert "   6,000 µs  75.0 %  move: the rest of session_change" in out
