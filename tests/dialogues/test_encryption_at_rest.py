"""Encryption at rest (security/encrypted.py): dialogue text, topics, coaching, therapists'
notes, homework, safety answers and two-factor secrets are ciphertext in the database, read
back as plaintext by the app, rotatable to a new key, and encrypted in place by migrations."""

from __future__ import annotations

import pytest
from allauth.mfa.models import Authenticator
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from dialogues import services as dialogue_services
from dialogues.models import DialogueSession, Turn
from safety.models import SafetyScreening
from security.encrypted import PREFIX, UnreadableValue, decrypt_str, encrypted_fields
from tests.helpers import form_token
from tests.mfa import give_mfa
from therapists import services as therapist_services
from therapists.models import Homework, TherapistNote

MARK = "zq-private-words"

# Every field the issue names, as (model, field): each must be encrypted.
ENCRYPTED = {
    (DialogueSession, "topic"),
    (Turn, "text"),
    (Turn, "data"),
    (TherapistNote, "text"),
    (Homework, "title"),
    (Homework, "instructions"),
    (SafetyScreening, "answers"),
}


def raw_column(model, field: str) -> list:
    column = model._meta.get_field(field).column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {connection.ops.quote_name(column)} FROM "
            f"{connection.ops.quote_name(model._meta.db_table)}"
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def private_rows(dialogue, link, therapist, alex, sam, pair):
    """A row with MARK in every encrypted field, written through the app's own services."""
    dialogue_services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="accept_now",
        payload={},
        token=form_token(),
    )
    DialogueSession.objects.filter(pk=dialogue.pk).update(topic=f"{MARK} topic")
    dialogue_services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": f"{MARK} sent"},
        token=form_token(),
    )
    therapist_services.coaching_send(
        session_public_id=dialogue.public_id,
        therapist=therapist,
        text=f"{MARK} coaching",
        to="b",
        token=form_token(),
    )
    therapist_services.note_add(
        therapist=therapist, couple=pair, text=f"{MARK} note", token=form_token()
    )
    therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title=f"{MARK} hw",
        instructions=f"{MARK} how",
        token=form_token(),
    )
    screening = SafetyScreening.objects.get(user=alex)
    screening.answers = {"worry": f"{MARK} answer"}
    screening.save()
    Turn.objects.create(
        session=dialogue, seq=999, step="requests", move="make_requests", actor=alex,
        data={"items": [f"{MARK} request"]},
    )  # fmt: skip
    return dialogue


def test_every_private_field_is_an_encrypted_field():
    found = {
        (model, f.name)
        for model in (DialogueSession, Turn, TherapistNote, Homework, SafetyScreening)
        for f in encrypted_fields(model)
    }
    assert found == ENCRYPTED


def test_the_database_holds_no_plaintext_and_the_app_reads_it_back(private_rows, alex):
    for model, field in sorted(ENCRYPTED, key=str):
        raw = raw_column(model, field)
        assert raw, (model, field)
        for value in raw:
            assert MARK not in str(value), (model, field)
            assert str(value).startswith(PREFIX), (model, field, value)
    session = DialogueSession.objects.get(pk=private_rows.pk)
    assert session.topic == f"{MARK} topic"
    texts = [t.text for t in session.turns.all()]
    assert f"{MARK} sent" in texts and f"{MARK} coaching" in texts
    assert {"items": [f"{MARK} request"]} in [t.data for t in session.turns.all()]
    assert TherapistNote.objects.get().text == f"{MARK} note"
    homework = Homework.objects.get()
    assert (homework.title, homework.instructions) == (f"{MARK} hw", f"{MARK} how")
    assert SafetyScreening.objects.get(user=alex).answers == {"worry": f"{MARK} answer"}


def test_the_partners_pages_show_the_decrypted_text(private_rows, client_as, sam):
    page = client_as(sam).get(f"/dialogues/{private_rows.public_id}/").content.decode()
    assert f"{MARK} topic" in page and f"{MARK} sent" in page and f"{MARK} coaching" in page


def test_each_value_is_encrypted_with_a_fresh_iv(private_rows):
    # Two equal texts never look equal in the database: nothing to compare or count.
    DialogueSession.objects.filter(pk=private_rows.pk).update(topic="same")
    raw_before = raw_column(DialogueSession, "topic")
    DialogueSession.objects.filter(pk=private_rows.pk).update(topic="same")
    assert raw_column(DialogueSession, "topic") != raw_before


def test_sql_lookups_on_ciphertext_are_refused_and_isnull_still_works(private_rows):
    with pytest.raises(FieldError):
        list(Turn.objects.filter(text=f"{MARK} sent"))
    with pytest.raises(FieldError):
        list(Turn.objects.filter(data__has_key="items"))
    with pytest.raises(FieldError):
        list(DialogueSession.objects.filter(topic__icontains=MARK))
    assert Turn.objects.filter(text__isnull=False).exists()


def test_a_wrong_key_fails_loudly_instead_of_showing_ciphertext(private_rows):
    wrong = [Fernet.generate_key().decode()]
    with override_settings(FIELD_ENCRYPTION_KEYS=wrong), pytest.raises(UnreadableValue):
        DialogueSession.objects.get(pk=private_rows.pk)


def test_a_value_read_before_is_remembered_only_for_the_keys_that_read_it(private_rows):
    """Reads are memoized (the same rows come back on every page), never across keys."""
    from security import encrypted

    DialogueSession.objects.get(pk=private_rows.pk)  # read (and remembered) with the right key
    hits = encrypted._read.cache_info().hits
    DialogueSession.objects.get(pk=private_rows.pk)
    assert encrypted._read.cache_info().hits > hits  # the second read decrypted nothing
    wrong = [Fernet.generate_key().decode()]
    with override_settings(FIELD_ENCRYPTION_KEYS=wrong), pytest.raises(UnreadableValue):
        DialogueSession.objects.get(pk=private_rows.pk)


def test_the_gift_is_found_by_move_not_by_encrypted_data(dialogue, alex, sam):
    """The requests a gift is chosen from are found by their move (data can't be searched)."""
    from dialogues.selectors import round_requests

    dialogue_services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="accept_now",
        payload={},
        token=form_token(),
    )
    Turn.objects.create(
        session=dialogue, seq=50, round=dialogue.round, step="requests", move="make_requests",
        actor=alex, data={"items": ["old one"]},
    )  # fmt: skip
    Turn.objects.create(
        session=dialogue, seq=51, round=dialogue.round, step="requests", move="make_requests",
        actor=alex, data={"items": ["walk with me", "call at noon"]},
    )  # fmt: skip
    Turn.objects.create(  # a later turn of another kind carrying "items" is not a request
        session=dialogue, seq=52, round=dialogue.round, step="gift", move="coach",
        kind=Turn.Kind.COACHING, data={"items": ["not a request"]},
    )  # fmt: skip
    assert round_requests(dialogue) == ["walk with me", "call at noon"]


# --- two-factor secrets -----------------------------------------------------------------


def test_totp_secrets_and_recovery_seeds_are_stored_encrypted(alex):
    secret = give_mfa(alex)
    totp = Authenticator.objects.get(user=alex, type=Authenticator.Type.TOTP)
    assert secret not in str(raw_column(Authenticator, "data"))
    assert totp.data["secret"].startswith(PREFIX)
    assert decrypt_str(totp.data["secret"]) == secret
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    codes = RecoveryCodes.activate(alex)
    seed_row = Authenticator.objects.get(user=alex, type=Authenticator.Type.RECOVERY_CODES)
    assert seed_row.data["seed"].startswith(PREFIX)
    assert len(codes.get_unused_codes()) > 0


def test_a_therapist_still_logs_in_with_an_encrypted_totp_secret(therapist):
    from allauth.mfa.totp.internal.auth import TOTP

    from tests.mfa import totp_code

    secret = give_mfa(therapist) if not therapist.authenticator_set.exists() else None
    totp = TOTP(Authenticator.objects.get(user=therapist, type=Authenticator.Type.TOTP))
    secret = secret or decrypt_str(totp.instance.data["secret"])
    assert totp.validate_code(totp_code(secret))


# --- rotation -------------------------------------------------------------------------------


def test_rotation_re_encrypts_every_row_and_old_rows_decrypt_meanwhile(
    private_rows, settings, alex
):
    old = list(settings.FIELD_ENCRYPTION_KEYS)
    new = Fernet.generate_key().decode()
    secret = give_mfa(alex)
    before = {(m, f): raw_column(m, f) for m, f in ENCRYPTED}

    settings.FIELD_ENCRYPTION_KEYS = [new, *old]  # step 1: the new key first, old ones after
    assert DialogueSession.objects.get(pk=private_rows.pk).topic == f"{MARK} topic"
    note = TherapistNote.objects.get()
    note.text = f"{MARK} edited"
    note.save()  # written meanwhile: with the new key

    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115

    for (model, field), raw in before.items():
        after = raw_column(model, field)
        assert not set(after) & set(raw), (model, field)
        assert all(MARK not in str(v) for v in after)

    settings.FIELD_ENCRYPTION_KEYS = [new]  # step 3: the old key is dropped
    assert DialogueSession.objects.get(pk=private_rows.pk).topic == f"{MARK} topic"
    assert TherapistNote.objects.get().text == f"{MARK} edited"
    assert Homework.objects.get().title == f"{MARK} hw"
    assert SafetyScreening.objects.get(user=alex).answers == {"worry": f"{MARK} answer"}
    assert f"{MARK} sent" in [t.text for t in Turn.objects.all()]
    totp = Authenticator.objects.get(user=alex, type=Authenticator.Type.TOTP)
    assert decrypt_str(totp.data["secret"]) == secret

    settings.FIELD_ENCRYPTION_KEYS = old  # the old key alone no longer reads anything
    with pytest.raises(UnreadableValue):
        DialogueSession.objects.get(pk=private_rows.pk)


def test_rotation_can_run_twice(private_rows, settings):
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    call_command("rotate_encryption_keys", stdout=open("/dev/null", "w"))  # noqa: SIM115
    assert DialogueSession.objects.get(pk=private_rows.pk).topic == f"{MARK} topic"


# --- the data migrations ----------------------------------------------------------------------

BEFORE_ENCRYPTION = [
    ("couples", "0011_csp_reports"),
    ("dialogues", "0003_turn_audience_and_coaching"),
    ("therapists", "0003_form_tokens"),
    ("safety", "0001_initial"),
    ("mfa", "0003_authenticator_type_uniq"),
]


@pytest.mark.django_db(transaction=True)
def test_the_migrations_encrypt_existing_plaintext_rows_in_place_and_back():
    from allauth.mfa.totp.internal.auth import generate_totp_secret
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_ENCRYPTION)
    old = executor.loader.project_state(BEFORE_ENCRYPTION).apps
    User = old.get_model("couples", "User")
    alex = User.objects.create(email="alex@example.com", display_name="Alex", public_id="a1")
    dr = User.objects.create(
        email="dr@example.com", display_name="Dr", public_id="d1", kind="therapist"
    )
    couple = old.get_model("couples", "Couple").objects.create(public_id="c1", created_by=alex)
    session = old.get_model("dialogues", "DialogueSession").objects.create(
        public_id="s1", couple=couple, kind="intentional", topic=f"{MARK} topic",
        state={"kind": "intentional"}, step="send", partner_a=alex,
    )  # fmt: skip
    old.get_model("dialogues", "Turn").objects.create(
        session=session, seq=1, step="requests", move="make_requests", actor=alex,
        text=f"{MARK} text", data={"items": [f"{MARK} request"]},
    )  # fmt: skip
    old.get_model("dialogues", "Turn").objects.create(
        session=session, seq=2, step="send", move="send", text="", data={}
    )
    old.get_model("therapists", "TherapistNote").objects.create(
        public_id="n1", therapist=dr, couple=couple, text=f"{MARK} note"
    )
    old.get_model("therapists", "Homework").objects.create(
        public_id="h1", therapist=dr, couple=couple, title=f"{MARK} hw", instructions=""
    )
    old.get_model("safety", "SafetyScreening").objects.create(
        user=alex, couple=couple, answers={"worry": f"{MARK} answer"}
    )
    secret = generate_totp_secret()
    old.get_model("mfa", "Authenticator").objects.create(
        user=dr, type="totp", data={"secret": secret}
    )

    executor = MigrationExecutor(connection)  # reload the graph, then all the way forward
    executor.migrate(executor.loader.graph.leaf_nodes())

    for model, field in ENCRYPTED:
        raw = raw_column(model, field)
        assert raw and all(str(v).startswith(PREFIX) for v in raw), (model, field)
        assert all(MARK not in str(v) for v in raw), (model, field)
    assert DialogueSession.objects.get().topic == f"{MARK} topic"
    turns = list(Turn.objects.order_by("seq"))
    assert [(t.text, t.data) for t in turns] == [
        (f"{MARK} text", {"items": [f"{MARK} request"]}),
        ("", {}),
    ]
    assert TherapistNote.objects.get().text == f"{MARK} note"
    assert (Homework.objects.get().title, Homework.objects.get().instructions) == (
        f"{MARK} hw",
        "",
    )
    assert SafetyScreening.objects.get().answers == {"worry": f"{MARK} answer"}
    totp = Authenticator.objects.get()
    assert secret not in str(raw_column(Authenticator, "data"))
    assert decrypt_str(totp.data["secret"]) == secret

    # Backwards: plaintext again, as the older code expects.
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE_ENCRYPTION)
    assert raw_column(DialogueSession, "topic") == [f"{MARK} topic"]
    assert f"{MARK} note" in raw_column(TherapistNote, "text")
    assert secret in str(raw_column(Authenticator, "data"))
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert DialogueSession.objects.get().topic == f"{MARK} topic"


def test_the_protocol_names_the_moves_whose_turns_hold_requests_and_gifts():
    from dialogues import protocol

    assert {"make_requests"} == protocol.REQUEST_MOVES
    assert {"give"} == protocol.GIFT_MOVES
