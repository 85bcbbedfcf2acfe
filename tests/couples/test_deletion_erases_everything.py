"""Deleting an account erases the person's private text and identity everywhere.

Every model with a text-like field (CharField, TextField, JSONField, an IP address) —
Django's, allauth's and ours, from `apps.get_models()` — has each such field classified
below: either it can hold a person's content or identity, and deletion erases it (ERASED:
with the rows that are that person's), or it never does (KEPT: with the reason). A new
model or field fails `test_every_text_field_is_classified` until it is classified.

Then a whole world is made through the real services (a couple, two dialogues, a linked
therapist's private and shared coaching, notes, homework, safety answers, invitations,
audit events from the person's address, two-factor, admin history), every ERASED field of
the person's rows is filled with a marker as well, the person deletes their account through
the page, and every text-like value of every row of every model is searched: none may
still hold the marker, the person's email, name or network address. What others wrote
stays.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.usersessions.models import UserSession
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone

from couples.models import Invitation, PushMessage, PushSubscription, User
from dialogues import services as dialogue_services
from dialogues.models import DialogueSession, Turn
from practice import services as practice_services
from practice.models import (
    Agreement,
    AgreementThanks,
    CaringBehaviour,
    ChildhoodReflection,
    Exit,
    MeasureAnswer,
)
from safety import services as safety_services
from safety.models import SafetyScreening
from security.models import AuditEvent
from tests.factories import PASSWORD, InvitationFactory
from tests.helpers import form_token, move
from tests.mfa import give_mfa
from therapists import services as therapist_services
from therapists.models import (
    Announcement,
    Homework,
    Segment,
    TherapistLink,
    TherapistNote,
    Workshop,
)

TEXTISH = (models.CharField, models.TextField, models.JSONField, models.GenericIPAddressField)

Rows = Callable[[User], QuerySet]


def _is_free_text(field: models.Field) -> bool:
    return isinstance(field, TEXTISH) and not field.choices


def _couples_of(person: User) -> QuerySet:
    return person.memberships.values("couple")


# Fields that can hold a person's content or identity, and the rows of them that are that
# person's: after deletion none of these holds anything of theirs. None: the person's rows
# already hold their data in the world below (it can't take a marker, e.g. a unique email).
ERASED: dict[str, dict[str, Rows | None]] = {
    "admin.logentry": {
        # The admin's history names the account it is about ("Alice"): renamed.
        "object_repr": lambda p: LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=str(p.pk)
        ),
    },
    "account.emailaddress": {"email": lambda p: EmailAddress.objects.filter(user=p)},
    "mfa.authenticator": {"data": lambda p: Authenticator.objects.filter(user=p)},
    "usersessions.usersession": {  # the devices page: each login's address and browser
        "ip": lambda p: UserSession.objects.filter(user=p),
        "user_agent": lambda p: UserSession.objects.filter(user=p),
        "data": lambda p: UserSession.objects.filter(user=p),
    },
    "couples.user": {
        "display_name": lambda p: User.objects.filter(pk=p.pk),
        "time_zone": lambda p: User.objects.filter(pk=p.pk),
        "language": lambda p: User.objects.filter(pk=p.pk),
        "email": None,
    },
    "couples.pushsubscription": {  # their devices' push addresses and keys: the rows go
        name: lambda p: PushSubscription.objects.filter(person=p)
        for name in (
            "public_id",
            "endpoint",
            "endpoint_hash",
            "p256dh",
            "auth",
            "device_name",
            "login",
        )
    },
    "couples.pushmessage": {  # the pushes planned for them (a dialogue's id in key and path)
        name: lambda p: PushMessage.objects.filter(person=p) for name in ("key", "path")
    },
    "couples.invitation": {
        # Invitations they sent (someone's address they typed) and those sent to them.
        "email": lambda p: Invitation.objects.filter(Q(invited_by=p) | Q(email__iexact=p.email)),
    },
    "security.auditevent": {
        "actor_email": lambda p: AuditEvent.objects.filter(actor=p),
        "ip_address": lambda p: AuditEvent.objects.filter(actor=p),
    },
    "safety.safetyscreening": {
        "answers": lambda p: SafetyScreening.objects.filter(user=p),
        "country": None,
    },
    "dialogues.dialoguesession": {
        "topic": lambda p: DialogueSession.objects.filter(partner_a=p),  # who named it
    },
    "dialogues.turn": {
        # What they wrote, and a therapist's coaching meant for them alone.
        "text": lambda p: Turn.objects.filter(Q(actor=p) | Q(visible_to=p)),
        "data": lambda p: Turn.objects.filter(Q(actor=p) | Q(visible_to=p)),
    },
    "practice.agreement": {
        # The request it quotes is the receiver's words (as a gift turn quotes it); an exit
        # closed is its giver's.
        "text": lambda p: Agreement.objects.filter(
            Q(receiver=p, giver_wrote=False) | Q(giver=p, giver_wrote=True)
        ),
    },
    "practice.exit": {
        "text": lambda p: Exit.objects.filter(author=p),
        "avoids": lambda p: Exit.objects.filter(author=p),
    },
    "practice.agreementthanks": {"text": lambda p: AgreementThanks.objects.filter(author=p)},
    "practice.caringbehaviour": {
        "text": lambda p: CaringBehaviour.objects.filter(caring_list__author=p),
    },
    # Their childhood reflection, shared or not, goes with their account (rows and all).
    "practice.childhoodreflection": {
        "answers": lambda p: ChildhoodReflection.objects.filter(author=p),
    },
    # Their questionnaire answers go with their account (rows and all).
    "practice.measureanswer": {"answers": lambda p: MeasureAnswer.objects.filter(person=p)},
    "therapists.therapistlink": {
        "invited_email": lambda p: TherapistLink.objects.filter(invited_email__iexact=p.email),
    },
    "therapists.therapistnote": {
        # A therapist's notes go with their account; notes about a couple go with either
        # partner's (docs/security.md, "Your data").
        "text": lambda p: TherapistNote.objects.filter(
            Q(therapist=p) | Q(couple__in=_couples_of(p))
        ),
    },
    "therapists.homework": {
        "title": lambda p: Homework.objects.filter(therapist=p),
        "instructions": lambda p: Homework.objects.filter(therapist=p),
    },
    # A presenter's workshops go with their account (rows and all): what they wrote in them.
    "therapists.workshop": {
        "title": lambda p: Workshop.objects.filter(presenter=p),
        "stream_url": lambda p: Workshop.objects.filter(presenter=p),
    },
    "therapists.segment": {"text": lambda p: Segment.objects.filter(workshop__presenter=p)},
    "therapists.announcement": {
        "text": lambda p: Announcement.objects.filter(workshop__presenter=p)
    },
}

# Fields that never hold a person's private content or identity, and why.
KEPT: dict[str, dict[str, str]] = {
    "admin.logentry": {
        "object_id": "a row number",
        "change_message": "fixed phrases and the names of changed fields, never their values",
    },
    "auth.permission": {"name": "made by code", "codename": "made by code"},
    "auth.group": {"name": "a staff role's name"},
    "contenttypes.contenttype": {"app_label": "made by code", "model": "made by code"},
    "sessions.session": {
        "session_key": "a random key",
        "session_data": "signed and encoded: the person's sessions are deleted (checked below)",
    },
    "usersessions.usersession": {"session_key": "a random key; the row goes with its login"},
    "account.emailconfirmation": {"key": "a random key; the row goes with its address"},
    "couples.user": {
        "password": "a hash, replaced by an unusable one",
        "public_id": "a random id: the anonymous shell keeps it",
    },
    "couples.couple": {"public_id": "a random id"},
    "couples.calendarfeed": {"token_hash": "a hash of a random link; the row goes on deletion"},
    "couples.pushmessage": {
        "kind": "one of push.KINDS",
        "last_error": "an exception's class name, no text",
    },
    "couples.notificationchoice": {"kind": "one of push.KINDS"},
    "couples.pushsubscription": {"server_key": "our own VAPID public key; the row goes"},
    "dialogues.reminder": {
        "planned_for": "the moment planned (20261201T200000Z)",
        "last_error": "an exception's class name, no text",
    },
    "django_tasks_database.dbtaskresult": dict.fromkeys(
        [
            "args_kwargs",
            "task_path",
            "worker_ids",
            "queue_name",
            "backend_name",
            "return_value",
            "exception_class_path",
            "traceback",
        ],
        "a background job: its arguments are row ids (dialogues/tasks.py), its result and "
        "traceback name no one's words",
    ),
    "couples.invitation": {"public_id": "a random id", "token_hash": "a hash of a random link"},
    "security.auditevent": {
        "action": "a fixed code",
        "target_type": "a model's name",
        "target_id": "a random id",
        "details": "ids and short codes (audit() never takes private text); staff's reason "
        "for verifying a therapist is kept: it is the trail's record of that decision",
    },
    "security.cspreport": dict.fromkeys(
        ["directive", "blocked", "document"],
        "a directive's name, a scheme and host, a path with ids masked (security/csp.py)",
    ),
    "safety.supportresource": dict.fromkeys(
        ["country", "country_name", "name", "description", "phone", "url"],
        "support lines staff edit, about no one",
    ),
    "dialogues.dialoguesession": {
        "public_id": "a random id",
        "state": "the protocol's state: steps, slots, counts",
        "step": "a step's name",
        "ready_to_resume": "slots ('a', 'b')",
    },
    "dialogues.turn": {
        "step": "a step's name",
        "move": "a move's name",
        "actor_role": "a role's name",
        "client_token": "a random form token",
    },
    "practice.agreement": {
        "public_id": "a random id",
        "pledge": "a code (close or reduce an exit), phrased when read; not a person's words",
    },
    "practice.agreementthanks": {"public_id": "a random id", "client_token": "a random form token"},
    "practice.caringbehaviour": {
        "public_id": "a random id",
        "client_token": "a random form token",
    },
    "practice.caringgiven": {"public_id": "a random id"},
    "practice.childhoodreflection": {"public_id": "a random id"},
    "practice.exit": {"public_id": "a random id", "client_token": "a random form token"},
    "practice.measureanswer": {
        "public_id": "a random id",
        "client_token": "a random form token",
        "instrument": "a questionnaire's code",
        "language": "a language code",
    },
    "practice.measurerhythm": {
        "requested": "a questionnaire's code",
        "request_token": "a random form token",
    },
    "therapists.therapistlink": {
        "public_id": "a random id",
        "code_hash": "the hash of a random one-time code",
        "client_token": "a random form token",
    },
    "therapists.therapistnote": {"public_id": "a random id", "client_token": "a random form token"},
    "therapists.homework": {"public_id": "a random id", "client_token": "a random form token"},
    "therapists.workshop": {
        "public_id": "a random id",
        "code": "a random join code",
        "client_token": "a random form token",
    },
    "therapists.segment": {"public_id": "a random id", "client_token": "a random form token"},
    "therapists.attendance": {"public_id": "a random id"},
    "therapists.announcement": {"client_token": "a random form token, or a nudge's code"},
}


def text_fields() -> list[tuple[type[models.Model], models.Field]]:
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if _is_free_text(field)
    ]


def test_every_text_field_is_classified():
    unclassified = []
    for model, field in text_fields():
        label = model._meta.label_lower
        erased = field.name in ERASED.get(label, {})
        kept = field.name in KEPT.get(label, {})
        if erased == kept:  # neither, or (a mistake) both
            unclassified.append(f"{label}.{field.name}")
    assert unclassified == [], (
        "Classify these fields in tests/couples/test_deletion_erases_everything.py: ERASED "
        "(with the rows that are a person's, and erase them on deletion) or KEPT (and why): "
        f"{unclassified}"
    )
    known = {(label, name) for table in (ERASED, KEPT) for label in table for name in table[label]}
    present = {(m._meta.label_lower, f.name) for m, f in text_fields()}
    assert known <= present, f"No longer in the models: {sorted(known - present)}"


# --- the world ---------------------------------------------------------------------------------

ALICE_WORDS = "zq7-alice-words"  # what Alice writes
BOB_WORDS = "zq7-bob-words"  # what Bob writes
DR_WORDS = "zq7-dr-words"  # what the therapist writes
ABOUT_ALICE = "zq7-about-alice"  # what the therapist writes to or about Alice alone
FRIEND = "old.friend@example.org"  # someone Alice once invited
IPS = {"alice": "203.0.113.7", "bob": "198.51.100.8", "therapist": "192.0.2.9"}


@dataclass
class World:
    people: dict[str, User]
    emails: dict[str, str]
    names: dict[str, str]
    bcr: DialogueSession  # Alice's behaviour change request: her requests, Bob's gift
    talk: DialogueSession  # Bob's live intentional dialogue, coached


def _screen(person: User) -> None:
    safety_services.screening_save(user=person, answers={"afraid": "no", "hurt": "no"})
    safety_services.screening_set_ready(user=person, ready=True)
    safety_services.screening_set_shared(user=person, shared=True)


@pytest.fixture
def world(pair, alex, sam, therapist, staff, client_as) -> World:
    alice, bob = alex, sam
    people = {"alice": alice, "bob": bob, "therapist": therapist}
    give_mfa(alice)
    for person in (alice, bob):
        _screen(person)
    # Alice invites the therapist by email; the therapist accepts; Bob consents.
    link = therapist_services.therapist_invite(
        user=alice, email=therapist.email, token=form_token()
    )
    therapist_services.therapist_invitation_accept(
        therapist=therapist, link_public_id=link.public_id
    )
    therapist_services.consent_give(user=bob, link_public_id=link.public_id)
    # Invitations: Bob's, which Alice accepted (her address), and one Alice sent before.
    InvitationFactory(
        couple=pair,
        invited_by=bob,
        email=alice.email,
        accepted_at=timezone.now(),
        accepted_by=alice,
    )
    InvitationFactory(couple=pair, invited_by=alice, email=FRIEND, revoked_at=timezone.now())

    bcr = dialogue_services.dialogue_start(
        user=alice, kind="behavior_change", topic=f"{ALICE_WORDS} topic"
    )
    move(bcr, bob, "accept_now")
    move(bcr, alice, "make_requests", items=[f"{ALICE_WORDS} request"])
    move(bcr, bob, "give", choice="0", text=f"{BOB_WORDS} gladly")  # copies Alice's request
    # The gift is Bob's agreement; Alice thanks him; each writes a caring list and shares it.
    agreement = Agreement.objects.get(session=bcr)
    practice_services.agreement_mark_done(user=bob, agreement_public_id=agreement.public_id)
    practice_services.agreement_thank(
        user=alice,
        agreement_public_id=agreement.public_id,
        text=f"{ALICE_WORDS} thanks",
        token=form_token(),
    )
    for person, words in ((alice, ALICE_WORDS), (bob, BOB_WORDS)):
        practice_services.caring_item_add(user=person, text=f"{words} caring", token=form_token())
        practice_services.caring_list_share(user=person)
    # Each writes a childhood reflection; Alice shares hers with Bob and the therapist.
    for person, words in ((alice, ALICE_WORDS), (bob, BOB_WORDS)):
        practice_services.reflection_save(
            user=person, answers={"wanted_most": f"{words} reflection"}
        )
    for audience in ("partner", "therapist"):
        practice_services.reflection_share(user=alice, audience=audience, shared=True)
    # Each answers a questionnaire; Alice shares her scores with Bob.
    for person in (alice, bob):
        practice_services.measure_answer(
            user=person,
            instrument="csi4",
            answers={"q1": 3, "q5": 4, "q7": 3, "q10": 3},
            token=form_token(),
        )
    practice_services.measure_share(user=alice, what="scores", shared=True)
    # Each lists an exit; Alice agrees to close hers, and Bob appreciates it.
    for person, words in ((alice, ALICE_WORDS), (bob, BOB_WORDS)):
        practice_services.exit_add(
            user=person, text=f"{words} exit", avoids=f"{words} avoid", token=form_token()
        )
    closing = practice_services.exit_close(
        user=alice,
        exit_public_id=Exit.objects.get(author=alice).public_id,
        how="shut",
        days=14,
    )
    practice_services.agreement_thank(
        user=bob,
        agreement_public_id=closing.public_id,
        text=f"{BOB_WORDS} thanks for closing",
        token=form_token(),
    )
    bobs = CaringBehaviour.objects.get(caring_list__author=bob)
    practice_services.caring_give(user=alice, item_public_id=bobs.public_id)

    talk = dialogue_services.dialogue_start(
        user=bob, kind="intentional", topic=f"{BOB_WORDS} topic"
    )
    move(talk, alice, "accept_now")
    move(talk, bob, "send", text=f"{BOB_WORDS} sent")
    move(talk, alice, "mirror", text=f"{ALICE_WORDS} mirrored")
    to_alice, to_bob = talk.slot_of(alice), talk.slot_of(bob)
    for text, to in [
        (f"{DR_WORDS} {ABOUT_ALICE} privately", to_alice),
        (f"{DR_WORDS} to Bob privately", to_bob),
        (f"{DR_WORDS} to both", ""),
    ]:
        therapist_services.coaching_send(
            session_public_id=talk.public_id,
            therapist=therapist,
            text=text,
            to=to,
            token=form_token(),
        )
    therapist_services.note_add(
        therapist=therapist, couple=pair, text=f"{DR_WORDS} {ABOUT_ALICE} note", token=form_token()
    )
    therapist_services.note_add(
        therapist=therapist,
        couple=pair,
        session=talk,
        text=f"{DR_WORDS} session note",
        token=form_token(),
    )
    therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title=f"{DR_WORDS} hw",
        instructions=DR_WORDS,
        token=form_token(),
    )

    # The therapist presents a workshop Alice and Bob join (its words are the therapist's).
    from therapists.workshops import services as workshop_services

    workshop = workshop_services.workshop_create(
        presenter=therapist,
        title=f"{DR_WORDS} workshop",
        starts_at=timezone.now(),
        stream_url="https://example.org/stream",
        token=form_token(),
    )
    workshop_services.segment_add(
        workshop=workshop,
        kind="teach",
        text=f"{DR_WORDS} teaching",
        dialogue_kind="",
        minutes=None,
        token=form_token(),
    )
    workshop_services.workshop_announce(
        workshop=workshop, kind="message", text=f"{DR_WORDS} hello", token=form_token()
    )
    for person in (alice, bob):
        workshop_services.workshop_join(user=person, code=workshop.code)

    # Audit events from each person's own address: a download each, a failed log-in to
    # Alice's account, the therapist reading the couple's page; and admin history lines.
    for who, person in people.items():
        client = client_as(person)
        assert client.get("/account/data/export/", REMOTE_ADDR=IPS[who]).status_code == 200
    client_as(None).post(
        "/accounts/login/", {"login": alice.email, "password": "wrong"}, REMOTE_ADDR=IPS["alice"]
    )
    page = f"/therapist/couples/{pair.public_id}/"
    assert client_as(therapist).get(page, REMOTE_ADDR=IPS["therapist"]).status_code == 200
    for person in people.values():
        LogEntry.objects.create(
            user=staff,
            content_type=ContentType.objects.get_for_model(User),
            object_id=str(person.pk),
            object_repr=str(person),
            action_flag=CHANGE,
            change_message="Deactivated",
        )
    assert AuditEvent.objects.filter(ip_address=IPS["alice"], action="auth.login_failed").exists()
    # Turn data is encrypted at rest: read in Python, not compared in SQL.
    gifts = Turn.objects.filter(move="give")
    assert any(t.data.get("gift") == f"{ALICE_WORDS} request" for t in gifts)
    for name, person in people.items():  # a phone that gets pushes, and one planned
        PushSubscription.objects.create(
            person=person,
            endpoint=f"https://push.example/{name}",
            endpoint_hash=f"hash-{name}",
            p256dh="key",
            auth="secret",
            device_name="Safari on iPhone",
            login=f"login-{name}",
        )
        PushMessage.objects.create(person=person, kind="your_move", key="k", path="/")
    return World(
        people=people,
        emails={k: p.email for k, p in people.items()},
        names={k: p.display_name for k, p in people.items()},
        bcr=bcr,
        talk=talk,
    )


def _fill(person: User, marker: str, ip: str) -> None:
    """Every ERASED field of the person's rows holds the marker too (or their address)."""
    for label, fields in ERASED.items():
        model = apps.get_model(label)
        for name, rows in fields.items():
            if rows is None:
                continue
            field = model._meta.get_field(name)
            if isinstance(field, models.GenericIPAddressField):
                value: object = ip
            elif isinstance(field, models.JSONField):
                value = {"text": marker, "items": [marker], "gift": marker}
            elif isinstance(field, models.EmailField):
                continue  # rows found by the address itself: the world holds the real ones
            else:
                value = marker
            rows(person).update(**{name: value})


def _leftovers(forbidden: list[str]) -> list[str]:
    """Every text-like value of every row of every model that holds a forbidden string."""
    found = []
    lowered = [f.lower() for f in forbidden]
    for model in apps.get_models():
        fields = [f for f in model._meta.concrete_fields if isinstance(f, TEXTISH)]
        fields = [f for f in fields if f.name != "session_data"]
        if not fields:
            continue
        for row in model._default_manager.values("pk", *[f.attname for f in fields]):
            for field in fields:
                value = row[field.attname]
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                for needle in lowered:
                    if needle in (text or "").lower():
                        found.append(f"{model._meta.label_lower}.{field.name} (row {row['pk']})")
    return sorted(set(found))


def _delete(client_as, person: User, ip: str) -> None:
    client = client_as(person)
    response = client.post("/account/delete/", {"password": PASSWORD}, REMOTE_ADDR=ip)
    assert response.status_code == 302, response.status_code


@pytest.mark.parametrize(
    "who, marker, others_words",
    [
        ("alice", ALICE_WORDS, [BOB_WORDS, DR_WORDS]),
        ("therapist", DR_WORDS, [ALICE_WORDS, BOB_WORDS]),
    ],
)
def test_nothing_of_the_deleted_person_is_left_anywhere(
    world, client_as, who, marker, others_words
):
    person = world.people[who]
    _fill(person, marker, IPS[who])
    forbidden = [marker, world.emails[who], world.names[who], IPS[who]]
    if who == "alice":
        # Coaching to her alone, notes about her couple, an address she once invited.
        forbidden += [ABOUT_ALICE, FRIEND]
    assert len(_leftovers(forbidden)) > 10  # the world really holds them

    _delete(client_as, person, IPS[who])

    left = _leftovers(forbidden)
    assert left == [], "still holding the deleted person's data:\n" + "\n".join(left)
    # Their sessions are gone (their data is signed, not searchable).
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(person.pk)
    ]
    # What the others wrote stays, and so do their own addresses in the trail.
    for words in others_words:
        assert _leftovers([words]), words
    for other, ip in IPS.items():
        if other != who:
            assert AuditEvent.objects.filter(ip_address=ip).exists(), other


def test_the_partner_keeps_their_words_and_sees_what_was_erased(world, client_as):
    alice, bob = world.people["alice"], world.people["bob"]
    _delete(client_as, alice, IPS["alice"])
    assert not SafetyScreening.objects.filter(user=alice).exists()
    assert SafetyScreening.objects.filter(user=bob).exists()
    gift = Turn.objects.get(session=world.bcr, move="give")
    assert gift.actor == bob and gift.text == f"{BOB_WORDS} gladly"
    assert gift.data["gift"] == "(removed by its author)"
    private = Turn.objects.get(session=world.talk, kind="coaching", visible_to=alice)
    assert private.text == "" and private.data == {"removed": True}
    assert f"{DR_WORDS} to both" in [t.text for t in Turn.objects.filter(session=world.talk)]
    assert f"{DR_WORDS} to Bob privately" in [t.text for t in Turn.objects.filter(visible_to=bob)]
    assert f"{DR_WORDS} hw" in [h.title for h in Homework.objects.all()]
    assert not TherapistNote.objects.exists()  # about their couple: both notes go
    transcript = client_as(bob).get(f"/dialogues/{world.bcr.public_id}/transcript/")
    body = transcript.content.decode()
    assert transcript.status_code == 200, transcript.status_code
    assert ALICE_WORDS not in body and "Gift:" in body and BOB_WORDS in body


def test_failed_log_ins_to_the_deleted_address_keep_neither_address(world, client_as):
    from couples.signals import attempted_account

    alice = world.people["alice"]
    hashed = attempted_account(alice.email)
    assert AuditEvent.objects.filter(details__account=hashed).exists()
    _delete(client_as, alice, IPS["alice"])
    failed = AuditEvent.objects.filter(action="auth.login_failed")
    assert failed.exists()
    assert not failed.filter(details__account=hashed).exists()
    assert not failed.exclude(ip_address=None).exists()
    deleted = AuditEvent.objects.get(action="account.deleted")
    assert deleted.ip_address is None and deleted.actor is None
