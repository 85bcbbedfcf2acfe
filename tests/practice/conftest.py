"""Practice fixtures: an agreement (Sam gave Alex's request as a gift), and caring lists."""

from __future__ import annotations

import pytest

from dialogues import services as dialogue_services
from practice import services
from practice.models import Agreement
from tests.helpers import form_token

REQUEST = "Would you make coffee on Sunday mornings?"
ALEX_PRIVATE = "zq-private-alex-item"  # on Alex's list, never shared unless a test shares it
SAM_ITEM = "leave me a note in my bag"


def _move(session, user, move, **payload):
    dialogue_services.move_submit(
        session_public_id=session.public_id,
        user=user,
        move=move,
        payload=payload,
        token=form_token(),
    )


def give_gift(alex, sam, request_text=REQUEST):
    """Alex asks (a behaviour-change request), Sam gives it as a gift: an agreement of Sam's."""
    bcr = dialogue_services.dialogue_start(user=alex, kind="behavior_change", topic="Mornings")
    _move(bcr, sam, "accept_now")
    _move(bcr, alex, "make_requests", items=["Something else", request_text])
    _move(bcr, sam, "give", choice="1", text="Gladly")
    return bcr


@pytest.fixture
def agreement(pair, alex, sam) -> Agreement:
    give_gift(alex, sam)
    return Agreement.objects.get()


@pytest.fixture
def alex_private(pair, alex):
    """Alex's list with one item, not shared."""
    return services.caring_item_add(user=alex, text=ALEX_PRIVATE, token=form_token())


@pytest.fixture
def sam_shared(pair, sam):
    """Sam's list with one item, shared with Alex."""
    item = services.caring_item_add(user=sam, text=SAM_ITEM, token=form_token())
    services.caring_list_share(user=sam)
    return item
