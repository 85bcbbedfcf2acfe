"""What one pushed fragment costs: the number of queries must not grow with the dialogue."""

import datetime
import logging
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dialogues import push, selectors, services
from dialogues.models import Turn
from dialogues.selectors import PARTNER
from live import clock
from tests.helpers import form_token, page_open

pytestmark = pytest.mark.django_db


def grow(dialogue, alex, sam, turns: int) -> None:
    """The endless loop of the protocol: mirror, not quite, mirror, ... up to `turns` turns."""
    if dialogue.turns.count() == 1:
        services.move_submit(
            session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
        )
        services.move_submit(
            session_public_id=dialogue.public_id,
            user=alex,
            move="send",
            payload={"text": "I feel."},
            token=form_token(),
        )
    while Turn.objects.filter(session=dialogue).count() < turns:
        last = Turn.objects.filter(session=dialogue).order_by("-seq").first()
        if last.move in ("send", "not_quite"):
            services.move_submit(
                session_public_id=dialogue.public_id,
                user=sam,
                move="mirror",
                payload={"text": "You feel."},
                token=form_token(),
            )
        else:
            services.move_submit(
                session_public_id=dialogue.public_id,
                user=alex,
                move="not_quite",
                payload={"text": "Not quite."},
                token=form_token(),
            )


def queries(render) -> tuple[int, object]:
    with CaptureQueriesContext(connection) as ctx:
        result = render()
    return len(ctx.captured_queries), result


def seq_of(dialogue) -> int:
    dialogue.refresh_from_db()
    return dialogue.seq


def test_a_snapshot_costs_the_same_queries_with_10_or_200_turns(dialogue, alex, sam):
    def snapshot():
        return push.render_snapshot(public_id=dialogue.public_id, user=sam)

    grow(dialogue, alex, sam, 10)
    small, rendered = queries(snapshot)
    assert len(re.findall(r'<li id="turn-\d+"', rendered.html)) == 10
    grow(dialogue, alex, sam, 200)
    large, rendered = queries(snapshot)
    assert len(re.findall(r'<li id="turn-\d+"', rendered.html)) == 200
    assert large == small


@pytest.mark.parametrize("panel_changed", [True, False], ids=["new-panel", "same-panel"])
def test_an_update_costs_the_same_queries_with_10_or_200_turns(dialogue, alex, sam, panel_changed):
    def one_update():
        before = seq_of(dialogue)
        grow(dialogue, alex, sam, before + 1)
        key = (
            ""
            if panel_changed
            else push.render_snapshot(public_id=dialogue.public_id, user=sam).panel_key
        )
        count, rendered = queries(
            lambda: push.render_update(
                public_id=dialogue.public_id, user=sam, after=before, panel_key=key
            )
        )
        # Exactly the one new turn, marked with its sequence number.
        assert f'data-from="{before + 1}" data-seq="{before + 1}"' in rendered.html
        assert re.findall(r'<li id="turn-(\d+)"', rendered.html) == [str(before + 1)]
        assert ('id="move-panel"' in rendered.html) is (rendered.panel_key != key)
        return count

    grow(dialogue, alex, sam, 10)
    small = one_update()
    grow(dialogue, alex, sam, 200)
    assert one_update() == small


def test_an_update_covering_several_turns_costs_the_same_as_one(dialogue, alex, sam):
    grow(dialogue, alex, sam, 20)
    seq = seq_of(dialogue)

    def update(after):
        return queries(
            lambda: push.render_update(
                public_id=dialogue.public_id, user=alex, after=after, panel_key=""
            )
        )

    one, rendered_one = update(seq - 1)
    five, rendered_five = update(seq - 5)
    assert len(re.findall(r'<li id="turn-\d+"', rendered_one.html)) == 1
    assert len(re.findall(r'<li id="turn-\d+"', rendered_five.html)) == 5
    assert one == five


def test_nothing_new_costs_no_more_than_the_permission_check(dialogue, alex, sam):
    grow(dialogue, alex, sam, 10)
    seq = seq_of(dialogue)
    count, rendered = queries(
        lambda: push.render_update(
            public_id=dialogue.public_id, user=alex, after=seq, panel_key="x"
        )
    )
    assert rendered.html == ""
    assert count == 1


def turn_seqs(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<li id="turn-(\d+)"', html)]


def marker_seq(html: str) -> int:
    return int(re.search(r'id="sync"[^>]*data-seq="(\d+)"', html).group(1))


@pytest.fixture
def step_saved_between_reads(monkeypatch, dialogue, alex, sam):
    """Saves sam's mirror right after a render has read the session, before it reads turns:
    the interleaving that once showed a step twice in a browser."""
    real = push.selectors.dialogue_for_viewer

    def dialogue_for_then_a_step_is_saved(**kwargs):
        session = real(**kwargs)
        monkeypatch.setattr(push.selectors, "dialogue_for_viewer", real)  # once
        services.move_submit(
            session_public_id=dialogue.public_id,
            user=sam,
            move="mirror",
            payload={"text": "You felt alone."},
            token=form_token(),
        )
        return session

    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "I felt alone."},
        token=form_token(),
    )
    monkeypatch.setattr(push.selectors, "dialogue_for_viewer", dialogue_for_then_a_step_is_saved)
    return seq_of(dialogue)


def test_a_snapshot_shows_no_turn_beyond_its_own_sequence_number(
    step_saved_between_reads, dialogue, sam
):
    before = step_saved_between_reads
    rendered = push.render_snapshot(public_id=dialogue.public_id, user=sam)
    assert marker_seq(rendered.html) == rendered.seq == before
    assert turn_seqs(rendered.html) == list(range(1, before + 1))
    # The step saved meanwhile comes next, once, as an update starting right after it.
    update = push.render_update(
        public_id=dialogue.public_id, user=sam, after=rendered.seq, panel_key=rendered.panel_key
    )
    assert turn_seqs(update.html) == [before + 1]


def test_an_update_shows_no_turn_beyond_its_own_sequence_number(
    step_saved_between_reads, dialogue, alex
):
    before = step_saved_between_reads
    rendered = push.render_update(
        public_id=dialogue.public_id, user=alex, after=before - 1, panel_key=""
    )
    assert marker_seq(rendered.html) == rendered.seq == before
    assert turn_seqs(rendered.html) == [before]


def test_the_facilitators_fragment_says_which_zone_a_proposed_time_is_in(dialogue, alex, sam):
    """Rendered once for every console, not as one therapist: in the default zone, saying so
    (it used to show "()" beside the time)."""
    result = services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="propose_time",
        payload={"time": "60"},
        at=dialogue.step_seq,
        token=form_token(),
    )
    html = push.render_change(session=result.session, turn=result.turn)["facilitator"]["html"]
    assert "Proposed time" in html
    assert "()" not in html and "(UTC)" in html


def test_an_update_is_the_four_partials_of_the_page_in_one_render(dialogue, alex, sam):
    grow(dialogue, alex, sam, 6)
    session = selectors.dialogue_for_viewer(public_id=dialogue.public_id, user=sam, role=PARTNER)
    turns = selectors.turns_of(session=session, viewer=sam, after=session.seq - 2)
    context = selectors.dialogue_context(session=session, viewer=sam, turns=turns, role=PARTNER)
    one_by_one = "".join(
        push.render_to_string(f"{push.PAGE}#{name}", context)
        for name in ("new_turns", "status_bar", "announcer")
    ) + push.render_to_string(f"{push.PAGE}#typing", {"viewer": sam})
    assert 'id="announcer"' in one_by_one and 'id="typing"' in one_by_one
    assert push.render_to_string(f"{push.PAGE}#step_update", context) == one_by_one


# --- a change renders without a refused query, whatever kind it is -----------------------------


def _no_complaints(caplog) -> list[str]:
    return [f"{r.name}: {r.getMessage()}" for r in caplog.records if r.levelno >= logging.WARNING]


def _offer_time(public_id, alex, sam):
    return services.move_submit(
        session_public_id=public_id,
        user=sam,
        move="propose_time",
        payload={"time": "60"},
        token=form_token(),
    )


def _start(public_id, alex, sam):
    return services.move_submit(
        session_public_id=public_id, user=sam, move="accept_now", token=form_token()
    )


# Each: (what happens before, with the log not yet watched; the change watched).
CHANGES = {
    "offer_another_time": (None, _offer_time),
    "offer_yet_another_time": (
        _offer_time,
        lambda public_id, alex, sam: services.move_submit(
            session_public_id=public_id,
            user=alex,
            move="reschedule",
            payload={"time": "90"},
            token=form_token(),
        ),
    ),
    "begin_before_the_time": (
        _offer_time,
        lambda public_id, alex, sam: services.move_submit(
            session_public_id=public_id, user=alex, move="begin", token=form_token()
        ),
    ),
    "open_at_its_time": (
        _offer_time,
        lambda public_id, alex, sam: services.session_open_due(session_public_id=public_id),
    ),
    "cancel": (
        _offer_time,
        lambda public_id, alex, sam: services.session_cancel(session_public_id=public_id, user=sam),
    ),
    "start": (None, _start),
    "end": (
        _start,
        lambda public_id, alex, sam: services.session_end(session_public_id=public_id, user=alex),
    ),
    "end_before_starting": (
        None,
        lambda public_id, alex, sam: services.session_end(session_public_id=public_id, user=alex),
    ),
}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", CHANGES)
def test_offering_another_time_starting_and_ending_log_no_warning_or_error(
    pair, alex, sam, caplog, change
):
    """These changes leave the dialogue waiting (or end it): their render reads what the
    panels need after commit, with nothing to complain of."""
    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money")
    before, watched = CHANGES[change]
    if before is not None:
        before(dialogue.public_id, alex, sam)
    clock.clock_set(
        clock.now() + datetime.timedelta(minutes=61 if change == "open_at_its_time" else 0)
    )
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="imago.dialogues")
    try:
        result = watched(dialogue.public_id, alex, sam)
    finally:
        clock.clock_set(None)
    assert result is not None
    assert _no_complaints(caplog) == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("together", [False, True], ids=["said aloud", "on one device"])
def test_a_said_aloud_steps_panel_shows_whether_sharing_one_device_is_allowed(
    pair, alex, sam, caplog, together
):
    """Said aloud, a panel shows whether the partner's permission to share one device stands,
    read when the step is rendered; nothing to complain of."""
    from couples import services as couple_services

    dialogue = services.dialogue_start(user=alex, kind="intentional", topic="Money", aloud=True)
    couple_services.device_sharing_allow(user=sam)
    if together:
        services.session_together(session_public_id=dialogue.public_id, user=alex, on=True)
    dialogue.refresh_from_db()
    page_open(dialogue, alex)
    caplog.clear()
    caplog.set_level(logging.DEBUG, logger="imago.dialogues")
    result = services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex if together else sam,
        move="accept_now",
        at=dialogue.step_seq,
        token=form_token(),
        for_partner=together,
    )
    assert result.created
    assert _no_complaints(caplog) == []
    offer = "Take turns together on this device, with Sam"
    assert (offer in result.fragments["a"]["panel"]) is not together


def test_a_new_dialogue_renders_and_sends_nothing_to_its_own_group_only_its_couple_hears(
    pair, alex, sam, monkeypatch, django_capture_on_commit_callbacks
):
    """No page can have joined a dialogue's group before the dialogue exists (its id was made
    that instant): its creation renders nothing and sends nothing there (a workshop starts
    sixty at once); the couple's pages hear of it."""
    from live import couple_group, dialogue_group

    rendered: list[str] = []
    monkeypatch.setattr(push, "render_change", lambda **kw: rendered.append("late") or {})
    sent: list[tuple[str, dict]] = []
    monkeypatch.setattr("live.send", lambda group, message: sent.append((group, message)))
    with django_capture_on_commit_callbacks(execute=True):
        session = services.dialogue_start(user=alex, kind="intentional", topic="Sundays")
    assert rendered == []
    assert [g for g, _m in sent if g == dialogue_group(session.public_id)] == []
    assert couple_group(pair.pk) in [g for g, _m in sent]
