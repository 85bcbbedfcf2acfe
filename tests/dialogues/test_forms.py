"""The start form: each kind of dialogue with the protocol's one-line description."""

import html
import re

import pytest
from django.urls import reverse

from dialogues import protocol
from dialogues.forms import StartDialogueForm
from dialogues.models import DialogueSession


def test_each_kind_comes_with_its_description_from_the_protocol():
    kinds = StartDialogueForm().kinds()
    assert [str(choice.data["value"]) for choice, _, _ in kinds] == [
        k.value for k in protocol.KINDS
    ]
    for choice, description_id, info in kinds:
        assert info is protocol.KINDS[protocol.Kind(str(choice.data["value"]))]
        assert info.description
        assert f'aria-describedby="{description_id}"' in choice.tag()


@pytest.mark.django_db
def test_the_start_page_describes_each_kind_beside_its_button(client_as, pair):
    body = html.unescape(client_as("alex").get(reverse("dialogues:new")).content.decode())
    for kind, info in protocol.KINDS.items():
        described = re.search(rf'aria-describedby="kind-{kind.value}-description"', body)
        assert described, kind
        assert f'id="kind-{kind.value}-description">{info.description}' in body
        assert f"For {info.suggested_for}: {info.title}" in body
        title = re.escape(str(info.title))
        assert re.search(rf">{title}( <span class=\"badge\">Suggested</span>)?</label>", body)


@pytest.mark.django_db
def test_the_first_time_the_warm_up_is_suggested_and_chosen(client_as, pair):
    body = html.unescape(client_as("alex").get(reverse("dialogues:new")).content.decode())
    warm_up = protocol.KINDS[protocol.Kind.WARM_UP]
    assert f"We suggest the <strong>{warm_up.title}</strong> for your first time" in body
    assert re.search(r'<input[^>]*value="warm_up"[^>]*checked', body)


@pytest.mark.django_db
def test_once_a_dialogue_is_completed_the_intentional_dialogue_is_suggested(client_as, dialogue):
    dialogue.status = DialogueSession.Status.COMPLETED
    dialogue.save(update_fields=["status"])
    body = html.unescape(client_as("alex").get(reverse("dialogues:new")).content.decode())
    assert "We suggest the <strong>Intentional Dialogue</strong>" in body
    assert re.search(r'<input[^>]*value="intentional"[^>]*checked', body)


@pytest.mark.django_db
def test_the_parent_child_dialogue_says_it_is_best_with_a_therapist(client_as, pair):
    body = html.unescape(client_as("alex").get(reverse("dialogues:new")).content.decode())
    description = body.split('id="kind-parent_child-description">', 1)[1].split("</span>", 1)[0]
    assert "Best with your therapist present" in description
    assert (
        "Best with your therapist present"
        not in body.split('id="kind-exits-description">')[1].split("</span>")[0]
    )
