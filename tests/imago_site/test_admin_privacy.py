"""No admin page ever shows what a couple wrote.

A unique marker goes into every kind of private text; then every page of every registered
admin is fetched as a superuser (lists, searches for the marker, change, history and delete
pages, the index and the audit trail), and the marker must never appear.

Models are discovered from admin.site._registry, so a new admin is covered automatically. A
new text field anywhere in the project fails `test_every_text_field_is_classified` until it
is listed below as private (and given a row in `private_rows`) or as not private.
"""

import re

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.db import models
from django.urls import reverse
from django.utils import timezone

from dialogues import services as dialogue_services
from dialogues.models import DialogueSession, Turn
from practice.models import (
    Agreement,
    AgreementThanks,
    CaringBehaviour,
    CaringList,
    ChildhoodReflection,
    Exit,
    MeasureAnswer,
)
from security.audit import audit
from security.models import AuditEvent
from tests.helpers import form_token
from therapists import services as therapist_services
from therapists.models import Homework, TherapistNote

MARKER = "zq7-PRIVATE-marker-41d9"

# Every field that holds private text, by model label: filled with the marker below.
PRIVATE_TEXT_FIELDS = {
    "dialogues.dialoguesession": ["topic"],
    "dialogues.turn": ["text", "data"],  # partners' words and a therapist's coaching alike
    "safety.safetyscreening": ["answers"],  # not registered in the admin at all
    "therapists.therapistnote": ["text"],  # not registered in the admin at all
    "therapists.homework": ["title", "instructions"],  # registered: metadata only
    # Agreements, appreciations and caring lists: not registered in the admin at all.
    "practice.agreement": ["text"],
    "practice.agreementthanks": ["text"],
    "practice.caringbehaviour": ["text"],
    # A partner's childhood reflection: not registered in the admin at all.
    "practice.childhoodreflection": ["answers"],
    "practice.exit": ["text", "avoids"],  # not registered in the admin at all
    # Questionnaire answers: not registered in the admin at all.
    "practice.measureanswer": ["answers"],
}

# Text fields that are not private text (accounts, ids, codes, protocol state).
NOT_PRIVATE = {
    "couples.user": {"password", "email", "display_name", "public_id", "time_zone", "language"},
    "couples.calendarfeed": {"token_hash"},
    # Web Push: a device's push address and keys, and the kind of event (never any text).
    "couples.pushsubscription": {
        "public_id",
        "endpoint",
        "endpoint_hash",
        "p256dh",
        "auth",
        "device_name",
        "server_key",
        "login",
    },
    "couples.pushmessage": {"kind", "key", "path", "last_error"},
    "couples.notificationchoice": {"kind"},
    "couples.couple": {"public_id"},
    "couples.invitation": {"public_id", "email", "token_hash"},
    "security.auditevent": {"actor_email", "action", "target_type", "target_id", "details"},
    # A directive, a scheme and host, a path with random ids masked (security/csp.py).
    "security.cspreport": {"directive", "blocked", "document"},
    "dialogues.dialoguesession": {"public_id", "step", "state", "ready_to_resume"},  # slots, steps
    "dialogues.turn": {"step", "move", "actor_role", "client_token"},
    # A reminder's planned moment ("20261201T200000Z") and its error's class name, never text.
    "dialogues.reminder": {"planned_for", "last_error"},
    "safety.safetyscreening": {"country"},
    "safety.supportresource": {
        "country",
        "country_name",
        "kind",
        "name",
        "description",
        "phone",
        "url",
    },
    # The link code's hash (the code is never stored): the admin never shows it either.
    "therapists.therapistlink": {"public_id", "code_hash", "invited_email", "client_token"},
    "therapists.therapistnote": {"public_id", "client_token"},
    "therapists.homework": {"public_id", "client_token"},
    # A workshop: what its presenter says to a whole room (never a couple's words); none of
    # it is registered in the admin.
    "therapists.workshop": {"public_id", "title", "code", "stream_url", "client_token"},
    "therapists.segment": {"public_id", "text", "client_token"},
    "therapists.attendance": {"public_id"},
    "therapists.announcement": {"text", "client_token"},
    "practice.agreement": {"public_id", "pledge"},  # pledge: a code ("shut"/"lessen")
    "practice.agreementthanks": {"public_id", "client_token"},
    "practice.caringbehaviour": {"public_id", "client_token"},
    "practice.caringgiven": {"public_id"},
    "practice.childhoodreflection": {"public_id"},
    "practice.exit": {"public_id", "client_token"},
    # A questionnaire's code ("csi4"), a language code, random ids and form tokens.
    "practice.measureanswer": {"public_id", "instrument", "language", "client_token"},
    "practice.measurerhythm": {"requested", "request_token"},
}

TEXT_FIELDS = (models.CharField, models.TextField, models.JSONField)


def project_models():
    for config in apps.get_app_configs():
        if str(settings.BASE_DIR) in str(config.path) and "site-packages" not in config.path:
            yield from config.get_models()


def test_every_text_field_is_classified():
    unclassified = []
    for model in project_models():
        label = model._meta.label_lower
        for field in model._meta.concrete_fields:
            if not isinstance(field, TEXT_FIELDS) or field.choices:
                continue
            private = field.name in PRIVATE_TEXT_FIELDS.get(label, [])
            if not private and field.name not in NOT_PRIVATE.get(label, set()):
                unclassified.append(f"{label}.{field.name}")
    assert unclassified == [], (
        "Classify these fields in tests/imago_site/test_admin_privacy.py: private (and make "
        f"a row for them in private_rows) or not private: {unclassified}"
    )


@pytest.fixture
def private_rows(pair, alex, sam, outsider, therapist, link, staff):
    """At least one row of every model with private text, every private field = MARKER.
    (`link`: coaching, notes and homework need the therapist's access.)"""
    session = dialogue_services.dialogue_start(user=alex, kind="intentional", topic="x")
    dialogue_services.move_submit(
        session_public_id=session.public_id, user=sam, move="accept_now", token=form_token()
    )
    dialogue_services.move_submit(
        session_public_id=session.public_id,
        user=alex,
        move="send",
        payload={"text": "y"},
        token=form_token(),
    )
    therapist_services.coaching_send(
        session_public_id=session.public_id,
        therapist=therapist,
        text="z",
        to="a",
        token=form_token(),
    )
    therapist_services.coaching_send(
        session_public_id=session.public_id, therapist=therapist, text="z", token=form_token()
    )
    dialogue_services.session_pause(session_public_id=session.public_id, user=sam)
    therapist_services.note_add(therapist=therapist, couple=pair, text="n", token=form_token())
    therapist_services.note_add(
        therapist=therapist, couple=pair, session=session, text="n", token=form_token()
    )
    therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title="h",
        instructions="i",
        dialogue_kind="appreciation",
        token=form_token(),
    )
    agreement = Agreement.objects.create(
        couple=pair, giver=sam, receiver=alex, text="a", starts_on=timezone.localdate(), days=14
    )
    AgreementThanks.objects.create(agreement=agreement, author=alex, text="t")
    caring_list = CaringList.objects.create(couple=pair, author=alex, shared_at=timezone.now())
    CaringBehaviour.objects.create(caring_list=caring_list, text="c")
    ChildhoodReflection.objects.create(
        couple=pair,
        author=alex,
        answers={"wanted_most": "w"},
        shared_with_partner_at=timezone.now(),
        shared_with_therapist_at=timezone.now(),
    )
    Exit.objects.create(couple=pair, author=alex, text="e", avoids="v")
    MeasureAnswer.objects.create(couple=pair, person=alex, instrument="csi4", answers={"q1": 3})
    marker_data = {"text": MARKER, "items": [MARKER], "feelings": [MARKER], "gift": MARKER}
    for label, fields in PRIVATE_TEXT_FIELDS.items():
        model = apps.get_model(label)
        values = {
            name: marker_data
            if isinstance(model._meta.get_field(name), models.JSONField)
            else MARKER
            for name in fields
        }
        model.objects.update(**values)
    # An audit trail with every kind of event we record, and an admin history line.
    audit(action="auth.login", actor=alex, target=alex)
    audit(action="therapist.verified", actor=staff, target=therapist, reason="licence checked")
    return session


def admin_urls(model, objects):
    info = (model._meta.app_label, model._meta.model_name)
    yield reverse("admin:{}_{}_changelist".format(*info))
    yield reverse("admin:{}_{}_changelist".format(*info)) + f"?q={MARKER}"
    yield reverse("admin:{}_{}_changelist".format(*info)) + "?q=" + MARKER[:8]
    for obj in objects:
        for page in ("change", "history", "delete"):
            yield reverse(f"admin:{info[0]}_{info[1]}_{page}", args=[obj.pk])


def test_every_private_model_has_a_row_with_the_marker(private_rows):
    for label in PRIVATE_TEXT_FIELDS:
        assert apps.get_model(label).objects.exists(), f"make a {label} row in private_rows"
    assert [t.text for t in Turn.objects.all()] == [MARKER] * Turn.objects.count()
    assert Turn.objects.count() >= 6
    assert Turn.objects.filter(kind="coaching", visible_to__isnull=False).exists()


def test_no_admin_page_shows_private_text(private_rows, root, alex):
    root.post(  # leave an admin history line too
        reverse("admin:couples_user_changelist"),
        {"action": "deactivate", "_selected_action": [alex.pk]},
    )
    pages = [reverse("admin:index"), reverse("admin:security_auditevent_changelist")]
    for app_label in {m._meta.app_label for m in admin.site._registry}:
        pages.append(reverse("admin:app_list", args=[app_label]))
    for model in admin.site._registry:
        objects = list(model._default_manager.all()[:25])
        pages.extend(admin_urls(model, objects))
    pages.append(reverse("admin:auth_user_password_change", args=[alex.pk]))
    assert len(pages) > 40
    seen_ok = 0
    for url in pages:
        response = root.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        seen_ok += response.status_code == 200
        body = response.content.decode()
        if "?q=" in url:
            # The search box and links repeat the query itself; nothing else may match it.
            assert "0 results" in body or re.search(r"\b0 [a-z ]+\n", body), url
            body = re.sub(r'(value="|q=|q%3D)' + MARKER[:8] + "[-0-9a-zA-Z]*", "", body)
        assert MARKER[:8] not in body, url
    assert seen_ok > 30
    # The verification page (an action's intermediate step) too.
    response = root.post(
        reverse("admin:couples_user_changelist"),
        {
            "action": "verify_therapists",
            "_selected_action": [u.pk for u in type(alex).objects.all()],
        },
    )
    assert response.status_code == 200 and b"reason" in response.content
    assert MARKER.encode() not in response.content


def test_the_search_never_looks_into_private_text(private_rows, root):
    url = reverse("admin:dialogues_dialoguesession_changelist")
    body = root.get(url + f"?q={MARKER}").content.decode()
    assert "0 results" in body or "0 dialogue sessions" in body
    assert private_rows.public_id not in body


def probes():
    """URL filters that would count rows by their private text, for every admin."""
    for model in admin.site._registry:
        label = model._meta.label_lower
        for name in PRIVATE_TEXT_FIELDS.get(label, []):
            yield model, name
            yield model, f"{name}__contains"
            yield model, f"{name}__startswith"
        for relation in model._meta.related_objects + model._meta.many_to_many:
            target = relation.related_model._meta.label_lower
            for name in PRIVATE_TEXT_FIELDS.get(target, []):
                path = relation.get_accessor_name() if relation.auto_created else relation.name
                if path and not path.endswith("+"):
                    yield model, f"{path}__{name}__contains"
    yield DialogueSession, "turns__text__contains"
    yield DialogueSession, "state__contains"


@pytest.mark.parametrize("model,lookup", list(probes()), ids=lambda v: getattr(v, "__name__", v))
def test_private_text_cant_be_probed_with_url_filters(private_rows, root, model, lookup):
    info = (model._meta.app_label, model._meta.model_name)
    url = reverse("admin:{}_{}_changelist".format(*info))
    response = root.get(url + f"?{lookup}={MARKER}")
    assert response.status_code == 400, (lookup, response.status_code)


def test_the_dialogue_admin_shows_metadata(private_rows, root):
    url = reverse("admin:dialogues_dialoguesession_change", args=[private_rows.pk])
    body = root.get(url).content.decode()
    assert private_rows.public_id in body and "Time-out" in body
    assert "Turns" in body or "turns" in body
    list_body = root.get(reverse("admin:dialogues_dialoguesession_changelist")).content
    assert str(private_rows.couple).encode() in list_body


def test_turns_are_not_in_the_admin():
    assert Turn not in admin.site._registry
    assert DialogueSession in admin.site._registry
    assert AuditEvent in admin.site._registry


def test_therapist_notes_are_not_in_the_admin_and_the_rest_is_metadata():
    from therapists.models import Consent, TherapistLink

    assert TherapistNote not in admin.site._registry
    for model in (TherapistLink, Consent, Homework):
        assert model in admin.site._registry
    assert "code_hash" not in admin.site._registry[TherapistLink].fields
    homework_admin = admin.site._registry[Homework]
    assert not {"title", "instructions"} & set(homework_admin.fields)
    assert not {"title", "instructions"} & set(homework_admin.search_fields)


def test_the_therapist_link_admin_shows_who_and_when_never_the_code(private_rows, root, therapist):
    from therapists.models import TherapistLink
    from therapists.services import link_code_issue

    open_code = link_code_issue(therapist=therapist, token=form_token())
    link = TherapistLink.objects.filter(couple__isnull=False).get()
    body = root.get(
        reverse("admin:therapists_therapistlink_change", args=[link.pk])
    ).content.decode()
    assert link.public_id in body and "Dr. Rivera" in body and "Active" in body
    assert "Consents" in body and "Alex" in body and "Sam" in body  # who consented, when
    for url in (
        reverse("admin:therapists_therapistlink_changelist"),
        reverse("admin:therapists_therapistlink_change", args=[open_code.pk]),
    ):
        assert open_code.code not in root.get(url).content.decode()
    probe = reverse("admin:therapists_therapistlink_changelist") + "?code__startswith=A"
    assert root.get(probe).status_code == 400


def test_staff_can_end_a_therapists_access_and_it_is_audited(private_rows, root, therapist):
    from therapists.models import TherapistLink

    link = TherapistLink.objects.get(status="active")
    root.post(
        reverse("admin:therapists_therapistlink_changelist"),
        {"action": "end_access", "_selected_action": [link.pk]},
    )
    link.refresh_from_db()
    assert (link.status, link.end_reason) == ("ended", "staff")
    event = AuditEvent.objects.get(action="therapist_link.ended")
    assert event.actor_email == "root@example.com" and event.details["reason"] == "staff"
