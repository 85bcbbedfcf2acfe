"""The start form: each kind of dialogue with the protocol's one-line description."""

import html
import re

import pytest
from django.urls import reverse

from dialogues import protocol
from dialogues.forms import StartDialogueForm


def test_each_kind_comes_with_its_description_from_the_protocol():
    kinds = StartDialogueForm().kinds()
    assert [str(choice.data["value"]) for choice, _, _ in kinds] == [
        k.value for k in protocol.KINDS
    ]
    for choice, description_id, description in kinds:
        info = protocol.KINDS[protocol.Kind(str(choice.data["value"]))]
        assert description == info.description and description
        assert f'aria-describedby="{description_id}"' in choice.tag()


@pytest.mark.django_db
def test_the_start_page_describes_each_kind_beside_its_button(client_as, pair):
    body = html.unescape(client_as("alex").get(reverse("dialogues:new")).content.decode())
    for kind, info in protocol.KINDS.items():
        described = re.search(rf'aria-describedby="kind-{kind.value}-description"', body)
        assert described, kind
        assert f'id="kind-{kind.value}-description">{info.description}</span>' in body
        assert f">{info.title}</label>" in body
