"""Queries compiled once and then only executed give what the queryset would give."""

import threading

import pytest
from django.db import DatabaseError, transaction
from django.db.models.signals import post_save

from couples.models import User
from dialogues import services
from dialogues.models import DialogueSession, Turn
from live import prepared
from live.prepared import Param, Prepared
from tests.helpers import form_token

# The shortcut itself (live/fast.py).
pytestmark = [pytest.mark.shortcut("prepared"), pytest.mark.django_db]

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
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
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


# --- the move's writes: insert and update -------------------------------------------------


def _turn(dialogue, user, **extra) -> Turn:
    values = {
        "session": dialogue,
        "seq": dialogue.seq + 1,
        "step": "send",
        "move": "send",
        "actor": user,
        "actor_role": "sender",
        "text": "When the week is busy I feel far from you.",
        "data": {"feelings": ["lonely"]},
        "client_token": "form-1",
    }
    return Turn(**{**values, **extra})


def _columns(model, pk) -> dict:
    row = model.objects.get(pk=pk)
    return {f.attname: getattr(row, f.attname) for f in model._meta.concrete_fields}


def test_an_insert_saves_the_row_djangos_save_would_in_one_statement(
    dialogue, alex, django_assert_num_queries
):
    ours = _turn(dialogue, alex)
    with django_assert_num_queries(1):
        prepared.insert(ours)
    theirs = _turn(dialogue, alex, seq=dialogue.seq + 2, client_token="form-2")
    theirs.save(force_insert=True)
    assert ours.pk is not None and not ours._state.adding and ours._state.db == "default"
    mine, django = _columns(Turn, ours.pk), _columns(Turn, theirs.pk)
    differs = {"id", "seq", "client_token", "created_at"}
    assert {k: v for k, v in mine.items() if k not in differs} == {
        k: v for k, v in django.items() if k not in differs
    }
    assert mine["text"] == "When the week is busy I feel far from you."  # encrypted, read back
    assert mine["data"] == {"feelings": ["lonely"]}


def test_an_insert_keeps_djangos_checks_and_its_signals(dialogue, alex):
    unsaved = User(email="nobody@example.com")
    with pytest.raises(ValueError, match="unsaved related object"):
        prepared.insert(_turn(dialogue, unsaved))
    heard = []

    def listener(sender, instance, created, **kwargs):
        heard.append((instance.pk, created))

    post_save.connect(listener, sender=Turn)
    try:
        turn = _turn(dialogue, alex)
        prepared.insert(turn)  # with a listener, Django saves it, signals and all
    finally:
        post_save.disconnect(listener, sender=Turn)
    assert heard == [(turn.pk, True)]


def test_an_update_writes_only_the_columns_named_in_one_statement(
    dialogue, django_assert_num_queries
):
    dialogue.seq, dialogue.step = 41, "mirror"
    dialogue.round = 7  # changed here, not named: not written
    with django_assert_num_queries(1) as captured:
        prepared.update(dialogue, ["seq", "step"])
    sql = captured.captured_queries[0]["sql"]
    assert sql.startswith("UPDATE") and '"round"' not in sql
    stored = DialogueSession.objects.get(pk=dialogue.pk)
    assert (stored.seq, stored.step, stored.round) == (41, "mirror", 1)


def test_an_update_writes_none_as_null_and_nothing_when_nothing_changed(
    dialogue, alex, django_assert_num_queries
):
    DialogueSession.objects.filter(pk=dialogue.pk).update(paused_by=alex)
    dialogue.paused_by = None
    prepared.update(dialogue, ["paused_by"])
    assert DialogueSession.objects.get(pk=dialogue.pk).paused_by_id is None
    with django_assert_num_queries(0):
        prepared.update(dialogue, [])


def test_an_update_of_a_row_that_is_gone_is_an_error(dialogue):
    DialogueSession.objects.filter(pk=dialogue.pk).delete()
    dialogue.seq = 5
    with pytest.raises(DatabaseError, match="did not affect any rows"):
        prepared.update(dialogue, ["seq"])
