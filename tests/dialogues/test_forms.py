"""The start form: each kind of dialogue with the protocol's one-line description."""

import html
import re

import pytest
from django.http import QueryDict
from django.urls import reverse

from dialogues import protocol
from dialogues.forms import StartDialogueForm, clock_time, move_payload, move_posted
from dialogues.models import DialogueSession


def test_each_kind_comes_with_its_description_from_the_protocol():
    kinds = StartDialogueForm().kinds()
    assert [str(choice.data["value"]) for choice, _, _ in kinds] == [
        k.value for k in protocol.KINDS
    ]
    for choice, description_id, info in kinds:
        assert info is protocol.KINDS[protocol.Kind(str(choice.data["value"]))]
        assert info.description
        assert re.search(rf'aria-describedby="[^"]*\b{description_id}\b', choice.tag())


@pytest.mark.django_db
def test_the_start_page_describes_each_kind_beside_its_button(client_as, pair):
    body = html.unescape(client_as("alex").get(reverse("dialogues:new")).content.decode())
    for kind, info in protocol.KINDS.items():
        described = f'aria-describedby="kind-{kind.value}-for kind-{kind.value}-description"'
        assert described in body, kind
        assert f'id="kind-{kind.value}-description">{info.description}' in body
        suggested_for = re.escape(f"For {info.suggested_for}</span>")
        badge = re.escape('<span class="badge">Suggested</span> ')
        assert re.search(rf'id="kind-{kind.value}-for">({badge})?{suggested_for}', body), kind
        assert f">{info.title}</label>" in body


@pytest.mark.django_db
def test_the_first_time_the_warm_up_is_suggested_and_chosen(client_as, pair):
    body = html.unescape(client_as("alex").get(reverse("dialogues:new")).content.decode())
    assert 'id="kind-warm_up-for"><span class="badge">Suggested</span>' in body
    assert body.count('class="badge"') == 1
    assert re.search(r'<input[^>]*value="warm_up"[^>]*checked', body)


@pytest.mark.django_db
def test_once_a_dialogue_is_completed_the_intentional_dialogue_is_suggested(client_as, dialogue):
    dialogue.status = DialogueSession.Status.COMPLETED
    dialogue.save(update_fields=["status"])
    body = html.unescape(client_as("alex").get(reverse("dialogues:new")).content.decode())
    assert 'id="kind-intentional-for"><span class="badge">Suggested</span>' in body
    assert body.count('class="badge"') == 1
    assert re.search(r'<input[^>]*value="intentional"[^>]*checked', body)


@pytest.mark.django_db
def test_the_parent_child_dialogue_says_it_is_best_with_a_therapist(client_as, pair):
    body = html.unescape(client_as("alex").get(reverse("dialogues:new")).content.decode())
    description = body.split('id="kind-parent_child-description">', 1)[1].split("</dd>", 1)[0]
    assert "Best with your therapist present" in description
    assert (
        "Best with your therapist present"
        not in body.split('id="kind-exits-description">')[1].split("</dd>")[0]
    )


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("20:00", "20:00"),
        (" 20.00 ", "20:00"),
        ("20h", "20:00"),
        ("20h30", "20:30"),
        ("2000", "20:00"),
        ("830", "08:30"),
        ("8", "08:00"),
        ("8:30 pm", "20:30"),
        ("12am", "00:00"),
        ("25:00", ""),
        ("20:75", ""),
        ("13pm", ""),
        ("soon", ""),
    ],
)
def test_a_time_of_day_is_read_as_people_type_it_on_the_24_hour_clock(typed, read):
    assert clock_time(typed) == read


def test_a_typed_time_is_never_taken_for_minutes_from_now():
    assert move_payload({"time_at": "2000", "time": "15"})["time"] == "20:00"
    assert move_payload({"time_at": "90", "time": "15"})["time"] == "--:--"  # refused, clearly
    assert move_payload({"time_at": " ", "time": "15"})["time"] == "15"


def test_a_move_reads_the_same_from_a_posted_form_and_a_socket_frame():
    form = QueryDict(mutable=True)
    form.update({"move": "send", "text": "I felt alone.", "at": "4", "token": "t" * 22})
    form.setlist("feelings", ["hurt", "lonely"])
    frame = {
        "type": "move",
        "move": "send",
        "text": "I felt alone.",
        "feelings": ["hurt", "lonely"],
        "at": 4,
        "token": "t" * 22,
    }
    assert move_posted(form) == move_posted(frame)
    posted = move_posted(frame)
    assert (posted.move, posted.at, posted.token) == ("send", 4, "t" * 22)
    assert posted.for_partner is False
    assert posted.payload == {"text": "I felt alone.", "feelings": ["hurt", "lonely"]}


def test_a_move_posted_badly_is_read_as_nothing_the_protocol_would_take():
    posted = move_posted({"move": ["send"] * 30, "at": "soon", "token": None, "for": "me"})
    assert len(posted.move) == 40  # no move's name is that long: refused as no such move
    assert (posted.at, posted.token, posted.for_partner, posted.payload) == (None, "", False, {})
    assert move_posted({"for": "partner"}).for_partner is True
