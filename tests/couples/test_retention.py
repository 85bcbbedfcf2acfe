"""Retention: the daily purge (`manage.py purge`, couples/retention.py).

An ended couple's content is erased RETENTION_ENDED_COUPLE_DAYS after it ended, both partners
being warned once, RETENTION_WARNING_DAYS before, with nothing private in the email; audit
addresses go after AUDIT_IP_DAYS; expired sessions go; every run is idempotent and audited.
"""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from couples import services as couple_services
from couples.models import Couple
from couples.retention import retention_run
from dialogues import services as dialogue_services
from dialogues.models import DialogueSession, Turn
from dialogues.services import PURGED_NOTE
from safety.models import SafetyScreening
from security.models import AuditEvent
from tests.factories import UserFactory, make_couple, screen
from tests.helpers import at_mirror, form_token
from therapists import services as therapist_services
from therapists.models import Homework, TherapistNote

pytestmark = pytest.mark.django_db

MARKERS = (
    "Sunday mornings",  # the dialogue's topic
    "I feel lonely",  # what Alex sent, and what Sam mirrored
    "COACHING-MARKER",
    "NOTE-MARKER",
    "HOMEWORK-MARKER",
    "INSTRUCTIONS-MARKER",
)


@pytest.fixture
def ended(pair, dialogue, link, therapist, alex, sam) -> Couple:
    """Alex and Sam's couple with everything a couple can hold, then ended by Alex."""
    dialogue_services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", at=1, token=form_token()
    )
    at_mirror(dialogue, alex, sam)
    therapist_services.coaching_send(
        session_public_id=dialogue.public_id,
        therapist=therapist,
        text="COACHING-MARKER to both",
        token=form_token(),
    )
    therapist_services.coaching_send(
        session_public_id=dialogue.public_id,
        therapist=therapist,
        text="COACHING-MARKER",
        to="b",
        token=form_token(),
    )
    therapist_services.note_add(
        therapist=therapist, couple=pair, text="NOTE-MARKER", token=form_token()
    )
    therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title="HOMEWORK-MARKER",
        instructions="INSTRUCTIONS-MARKER",
        token=form_token(),
    )
    couple_services.couple_leave(user=alex)
    pair.refresh_from_db()
    assert pair.ended_at is not None
    return pair


def days_after_end(couple: Couple, days: float):
    assert couple.ended_at is not None
    return couple.ended_at + timedelta(days=days)


def content_left(couple: Couple) -> list[str]:
    """Every marker still found in what the couple's rows hold."""
    texts = [s.topic for s in DialogueSession.objects.filter(couple=couple)]
    for turn in Turn.objects.filter(session__couple=couple):
        texts += [turn.text, str(turn.data)]
    texts += [n.text for n in TherapistNote.objects.filter(couple=couple)]
    for homework in Homework.objects.filter(couple=couple):
        texts += [homework.title, homework.instructions]
    return [m for m in MARKERS if any(m in t for t in texts)]


def test_nothing_happens_before_the_warning_is_due(ended, mailoutbox):
    summary = retention_run(now=days_after_end(ended, 334))
    assert (summary.couples_warned, summary.couples_purged) == (0, 0)
    assert mailoutbox == []
    ended.refresh_from_db()
    assert ended.purge_warned_at is None


def test_both_partners_are_warned_once_with_nothing_private(ended, alex, sam, mailoutbox):
    at = days_after_end(ended, 336)
    assert retention_run(now=at).couples_warned == 1
    assert sorted(m.to[0] for m in mailoutbox) == [alex.email, sam.email]
    assert all(len(m.to) == 1 for m in mailoutbox)  # never each other's address
    for mail in mailoutbox:
        assert reverse("couples:your_data") in mail.body
        private = [m for m in MARKERS if m in mail.body or m in mail.subject]
        assert private == []
        other = sam if mail.to[0] == alex.email else alex
        assert other.display_name not in mail.body and other.email not in mail.body
    ended.refresh_from_db()
    assert ended.purge_warned_at == at
    # Again the same day, and every day after until the purge: never a second email.
    retention_run(now=at)
    retention_run(now=at + timedelta(days=10))
    assert len(mailoutbox) == 2
    assert (
        AuditEvent.objects.filter(action="retention.warned", target_id=ended.public_id).count() == 1
    )


def test_content_is_erased_when_due_and_only_then(ended, alex, sam, client_as, mailoutbox):
    retention_run(now=days_after_end(ended, 336))  # warned
    assert SafetyScreening.objects.filter(couple=ended).count() == 2
    assert retention_run(now=days_after_end(ended, 364)).couples_purged == 0
    assert len(content_left(ended)) == len(MARKERS)

    summary = retention_run(now=days_after_end(ended, 366))
    assert summary.couples_purged == 1
    assert content_left(ended) == []
    assert SafetyScreening.objects.filter(couple=ended).count() == 0
    assert TherapistNote.objects.filter(couple=ended).count() == 0
    # The rows stay (the partners' list of past dialogues still reads), marked.
    session = DialogueSession.objects.get(couple=ended)
    assert session.topic == PURGED_NOTE
    assert Homework.objects.get(couple=ended).title == PURGED_NOTE
    assert Turn.objects.filter(session=session).count() > 0
    body = client_as(sam).get(reverse("dialogues:transcript", args=[session.public_id]))
    assert body.status_code == 200
    assert "(erased after the retention period)" in body.content.decode()
    assert "I feel lonely" not in body.content.decode()
    ended.refresh_from_db()
    assert ended.content_purged_at is not None

    # Idempotent: nothing more to do, nothing more sent.
    again = retention_run(now=days_after_end(ended, 367))
    assert (again.couples_warned, again.couples_purged) == (0, 0)
    assert len(mailoutbox) == 2
    purged = AuditEvent.objects.filter(action="retention.couple_purged")
    assert [e.target_id for e in purged] == [ended.public_id]
    assert purged[0].details == {}  # counts and ids only, never content


def test_a_late_warning_still_gives_the_full_notice(ended, mailoutbox):
    """The purge didn't run for a long time: the warning comes first, the erasure 30 days
    after it, never at once."""
    late = days_after_end(ended, 500)
    summary = retention_run(now=late)
    assert (summary.couples_warned, summary.couples_purged) == (1, 0)
    assert retention_run(now=late + timedelta(days=29)).couples_purged == 0
    assert retention_run(now=late + timedelta(days=30)).couples_purged == 1
    assert content_left(ended) == []


def test_the_period_is_a_setting(ended, settings, mailoutbox):
    settings.RETENTION_ENDED_COUPLE_DAYS = 60
    settings.RETENTION_WARNING_DAYS = 7
    assert retention_run(now=days_after_end(ended, 52)).couples_warned == 0
    assert retention_run(now=days_after_end(ended, 54)).couples_warned == 1
    assert retention_run(now=days_after_end(ended, 61)).couples_purged == 1


def test_active_couples_and_a_new_couples_answers_are_untouched(ended, alex, outsider, mailoutbox):
    """Alex has a new couple and answered the questions about it: those answers stay, and so
    does everything of a couple that hasn't ended."""
    new_partner = UserFactory(email="robin@example.com", display_name="Robin")
    new_couple, _, _ = make_couple(alex, new_partner)
    screen(alex)
    assert SafetyScreening.objects.get(user=alex).couple_id == new_couple.pk
    retention_run(now=days_after_end(ended, 336))
    retention_run(now=days_after_end(ended, 400))
    assert SafetyScreening.objects.filter(user=alex).exists()
    assert SafetyScreening.objects.filter(user=outsider).exists()
    assert sorted(m.to[0] for m in mailoutbox) == ["alex@example.com", "sam@example.com"]
    new_couple.refresh_from_db()
    assert new_couple.purge_warned_at is None and new_couple.content_purged_at is None


def test_a_deleted_partner_is_not_emailed(pair, alex, sam, mailoutbox):
    couple_services.account_delete(user=alex)
    pair.refresh_from_db()
    mailoutbox.clear()
    retention_run(now=days_after_end(pair, 336))
    assert [m.to for m in mailoutbox] == [[sam.email]]


def test_audit_addresses_go_after_90_days(alex):
    now = timezone.now()
    old = AuditEvent.objects.create(action="auth.login", actor=alex, ip_address="203.0.113.9")
    recent = AuditEvent.objects.create(action="auth.login", actor=alex, ip_address="203.0.113.8")
    AuditEvent.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=91))
    AuditEvent.objects.filter(pk=recent.pk).update(created_at=now - timedelta(days=89))

    assert retention_run(now=now).audit_addresses == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.ip_address is None and old.action == "auth.login" and old.actor == alex
    assert recent.ip_address == "203.0.113.8"
    assert retention_run(now=now).audit_addresses == 0


def test_expired_sessions_are_cleared(alex):
    live = SessionStore()
    live["x"] = 1
    live.create()
    gone = SessionStore()
    gone["x"] = 1
    gone.create()
    Session.objects.filter(session_key=gone.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    assert retention_run().sessions == 1
    assert list(Session.objects.values_list("session_key", flat=True)) == [live.session_key]


def test_the_devices_list_forgets_logins_that_are_over(alex, client_as):
    from allauth.usersessions.models import UserSession

    kept, ended = client_as(alex), client_as(alex)
    assert UserSession.objects.filter(user=alex).count() == 2
    Session.objects.filter(session_key=ended.session.session_key).update(
        expire_date=timezone.now() - timedelta(seconds=1)
    )
    retention_run()
    assert list(UserSession.objects.values_list("session_key", flat=True)) == [
        kept.session.session_key
    ]


def test_the_command_runs_and_records_one_summary_event(ended):
    out = StringIO()
    call_command("purge", stdout=out)
    assert "couples erased: 0" in out.getvalue()
    event = AuditEvent.objects.get(action="retention.purge")
    assert event.actor is None and event.ip_address is None
    assert event.details == {
        "sessions": 0,
        "couples_warned": 0,
        "couples_purged": 0,
        "audit_addresses": 0,
    }
