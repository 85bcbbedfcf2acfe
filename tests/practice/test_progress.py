"""The progress page: felt-heard ratings, dialogues per week, agreements kept, caring given,
drawn as SVG with a table beside each chart; a linked therapist sees the same."""

from __future__ import annotations

import re

import pytest

from dialogues import services as ds
from practice import charts, selectors, services
from tests.conftest import ROLES
from tests.helpers import form_token, text_of
from tests.practice.conftest import REQUEST

pytestmark = pytest.mark.django_db


def appreciation_dialogue(alex, sam):
    s = ds.dialogue_start(user=alex, kind="appreciation", topic="Thanks")
    for user, move, payload in [
        (sam, "accept_now", {}),
        (alex, "appreciate", {"text": "I appreciate your patience."}),
        (sam, "mirror", {"text": "You appreciate my patience."}),
        (alex, "got_it", {}),
    ]:
        ds.move_submit(
            session_public_id=s.public_id, user=user, move=move, payload=payload, token=form_token()
        )
    return s


def closed_dialogue(alex, sam, ratings):
    """An intentional dialogue closed after one round (both agreeing to close before both were
    heard), each partner rating how heard they felt."""
    s = ds.dialogue_start(user=alex, kind="intentional", topic="Evenings")
    steps = [
        (sam, "accept_now", {}),
        (alex, "send", {"text": "When you call, I feel glad."}),
        (sam, "mirror", {"text": "You feel glad."}),
        (alex, "got_it", {}),
        (sam, "ask_more", {}),
        (alex, "thats_all", {}),
        (sam, "summary", {"text": "Glad."}),
        (alex, "got_it_all", {}),
        (sam, "validate", {"text": "Makes sense."}),
        (alex, "acknowledge", {}),
        (sam, "empathize", {"text": "Glad.", "feelings": ["happy"]}),
        (alex, "confirm", {}),
        (alex, "skip_requests", {}),
        (sam, "propose_closing", {}),
        (alex, "agree_to_close", {}),
        (alex, "close", {"text": "I appreciate you.", "rating": str(ratings[0])}),
        (sam, "close", {"text": "I appreciate you too.", "rating": str(ratings[1])}),
    ]
    for user, move, payload in steps:
        ds.move_submit(
            session_public_id=s.public_id, user=user, move=move, payload=payload, token=form_token()
        )
    return s


def test_it_reads_each_partners_rating_per_dialogue(pair, alex, sam):
    closed_dialogue(alex, sam, (3, 4))
    closed_dialogue(alex, sam, (5, 4))
    rows = selectors.heard_ratings(couple=pair, partners=[alex, sam])
    assert [r.ratings for r in rows] == [[3, 4], [5, 4]]


def test_the_progress_page_draws_and_tabulates_everything(client_as, pair, alex, sam, agreement):
    closed_dialogue(alex, sam, (3, 5))
    appreciation_dialogue(alex, sam)
    services.agreement_mark_done(user=sam, agreement_public_id=agreement.public_id)
    item = services.caring_item_add(user=sam, text="walk with me", token=form_token())
    services.caring_list_share(user=sam)
    services.caring_give(user=alex, item_public_id=item.public_id)
    response = client_as("alex").get("/between/progress/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("<svg") == 3 and page.count("<table") == 3  # a table beside each chart
    assert 'role="img"' in page and "<title" in page
    assert "style=" not in page and "<script>" not in page  # CSP-clean
    text = text_of(response)
    assert "3 of 5" in text and "5 of 5" in text
    assert f"Sam agreed to: “{REQUEST}”" in text and "Kept 1 of 1 day so far" in text
    # Dialogues this week: one intentional, one appreciation, one behaviour change.
    this_week = re.findall(r"<tr><th scope=\"row\">[^<]+</th>(?:<td>\d+</td>)+</tr>", page)
    assert any(row.count("<td>1</td>") == 3 for row in this_week)
    # The dots carry each value for a pointer's tooltip too.
    assert "Alex, " in page and ": 3 of 5</title>" in page


def test_a_new_couple_sees_calm_empty_states(client_as, pair):
    text = text_of(client_as("alex").get("/between/progress/"))
    assert "No ratings yet" in text and "No agreements yet" in text


@pytest.mark.parametrize("role", ROLES)
def test_the_therapists_progress_page_is_for_a_linked_therapist_only(
    client_as, pair, link, agreement, role
):
    response = client_as(role).get(f"/therapist/couples/{pair.public_id}/progress/")
    if role == "therapist":
        assert response.status_code == 200 and REQUEST in text_of(response)
    elif role == "anonymous":
        assert response.status_code == 302
    else:
        assert response.status_code == 404


def test_an_unlinked_therapist_sees_no_progress(client_as, pair, therapist, agreement):
    assert (
        client_as(therapist).get(f"/therapist/couples/{pair.public_id}/progress/").status_code
        == 404
    )


def test_the_therapists_read_is_audited(client_as, pair, link):
    from security.models import AuditEvent

    client_as("therapist").get(f"/therapist/couples/{pair.public_id}/progress/")
    assert AuditEvent.objects.filter(action="therapist.read", details__what="progress").exists()


def test_the_couple_page_shows_open_agreements_to_the_linked_therapist(
    client_as, pair, link, agreement
):
    text = text_of(client_as("therapist").get(f"/therapist/couples/{pair.public_id}/"))
    assert f"Sam agreed to: “{REQUEST}”" in text


def test_the_dashboard_shows_a_sparkline_of_felt_heard(client_as, pair, link, alex, sam):
    closed_dialogue(alex, sam, (2, 3))
    closed_dialogue(alex, sam, (4, 5))
    page = client_as("therapist").get("/therapist/").content.decode()
    assert 'class="sparkline"' in page
    assert "Felt heard in the last 2 dialogues, each out of 5: 2.5, 4.5." in page


def test_the_sparkline_sentence_for_one_dialogue_reads_as_a_rating_of_5(
    client_as, pair, link, alex, sam
):
    closed_dialogue(alex, sam, (4, 5))
    page = client_as("therapist").get("/therapist/").content.decode()
    assert "Felt heard in the last dialogue: 4.5 of 5." in page


def test_charts_scale_and_skip_missing_values():
    chart = charts.line_chart(labels=["a", "b", "c"], series=[("A", [1, None, 5])], low=1, high=5)
    (series,) = chart.series
    assert [d.y for d in series.dots] == [chart.bottom, chart.top]
    bars = charts.bar_chart(labels=["w1", "w2"], stacks=[("x", [0, 2]), ("y", [1, 1])])
    assert len(bars.bars) == 3
    assert charts.bar_chart(labels=["w"], stacks=[("x", [0])]).bars == []
    assert charts.sparkline([3]) == "" and charts.sparkline([1, 5]) == "2.0,22.0 98.0,2.0"


def test_a_dialogue_said_aloud_shows_its_ratings_and_says_it_was_said_aloud(
    client_as, pair, alex, sam
):
    s = ds.dialogue_start(user=alex, kind="intentional", topic="Evenings", aloud=True)
    for user, move, payload in [
        (sam, "accept_now", {}),
        (alex, "send", {}),
        (sam, "mirror", {}),
        (alex, "got_it", {}),
        (sam, "ask_more", {}),
        (alex, "thats_all", {}),
        (sam, "summary", {}),
        (alex, "got_it_all", {}),
        (sam, "validate", {}),
        (alex, "acknowledge", {}),
        (sam, "empathize", {}),
        (alex, "confirm", {}),
        (alex, "skip_requests", {}),
        (sam, "propose_closing", {}),
        (alex, "agree_to_close", {}),
        (alex, "close", {"rating": "4"}),
        (sam, "close", {"rating": "5"}),
    ]:
        ds.move_submit(
            session_public_id=s.public_id, user=user, move=move, payload=payload, token=form_token()
        )
    text = text_of(client_as("sam").get("/between/progress/"))
    assert "Intentional Dialogue, said aloud" in text
    assert "4 of 5" in text and "5 of 5" in text
