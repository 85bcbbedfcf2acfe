"""Queries compiled once and then only executed give what the queryset would give."""

import threading

import pytest
from django.db import transaction

from dialogues import services
from dialogues.models import DialogueSession, Turn
from imago_site.prepared import Param, Prepared

pytestmark = pytest.mark.django_db

BY_PUBLIC_ID = Prepared(
    lambda p: DialogueSession.objects.filter(public_id=p["public_id"]).select_related(
        "partner_a", "partner_b"
    ),
    Param("public_id"),
)
TURN_BY_TOKEN = Prepared(
    lambda p: Turn.objects.filter(session_id=p["session_id"], client_token=p["token"]),
    Param("session_id", int),
    Param("token"),
)


def test_it_returns_the_same_row_as_the_queryset_with_its_partners_loaded(
    dialogue, alex, sam, django_assert_num_queries
):
    with django_assert_num_queries(1):
        found = BY_PUBLIC_ID.first(public_id=dialogue.public_id)
        assert found is not None
        assert (found.partner_a.display_name, found.partner_b.display_name) == (
            alex.display_name,
            sam.display_name,
        )
    expected = DialogueSession.objects.get(pk=dialogue.pk)
    for field in DialogueSession._meta.concrete_fields:
        assert getattr(found, field.attname) == getattr(expected, field.attname), field.name
    assert found.protocol_state == expected.protocol_state  # JSON converted back
    assert not found._state.adding


def test_nothing_found_is_an_empty_list(db):
    assert BY_PUBLIC_ID.fetch(public_id="no-such-dialogue") == []
    assert BY_PUBLIC_ID.first(public_id="no-such-dialogue") is None


def test_encrypted_text_comes_back_decrypted(dialogue, alex, sam):
    services.move_submit(session_public_id=dialogue.public_id, user=sam, move="accept_now")
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "I feel far from you."},
        token="form-7",
    )
    turn = TURN_BY_TOKEN.first(session_id=dialogue.pk, token="form-7")
    assert turn is not None and turn.text == "I feel far from you."
    assert TURN_BY_TOKEN.first(session_id=dialogue.pk, token="form-8") is None


def test_values_that_look_like_sql_are_only_values(dialogue):
    assert BY_PUBLIC_ID.fetch(public_id="' OR 1=1 --") == []


def test_every_value_must_be_given(db):
    with pytest.raises(TypeError, match="public_id"):
        BY_PUBLIC_ID.fetch()


def test_a_stand_in_that_is_not_a_plain_parameter_is_refused(db):
    both = Prepared(
        lambda p: DialogueSession.objects.filter(public_id=p["x"], kind=p["x"]), Param("x")
    )
    with pytest.raises(ValueError, match="one parameter"):
        both.fetch(x="a")
    unused = Prepared(lambda p: DialogueSession.objects.all(), Param("x"))
    with pytest.raises(ValueError, match="one parameter"):
        unused.fetch(x="a")


def test_it_compiles_once_per_thread(dialogue, monkeypatch):
    from imago_site import prepared

    compiled = []
    real = prepared._Compiled.__init__

    def counting(self, *args, **kwargs):
        compiled.append(threading.get_ident())
        real(self, *args, **kwargs)

    monkeypatch.setattr(prepared._Compiled, "__init__", counting)
    query = Prepared(lambda p: DialogueSession.objects.filter(public_id=p["id"]), Param("id"))
    for _ in range(3):
        assert query.first(id=dialogue.public_id) is not None
    assert len(compiled) == 1


def test_a_locking_query_compiles_and_runs_inside_a_transaction(dialogue):
    locking = Prepared(
        lambda p: DialogueSession.objects.select_for_update(of=("self",)).filter(public_id=p["id"]),
        Param("id"),
    )
    with transaction.atomic():
        assert locking.first(id=dialogue.public_id).pk == dialogue.pk
