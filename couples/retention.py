"""Retention: what the daily purge (`manage.py purge`) erases, and when (docs/security.md
and docs/deployment.md).

- Expired sessions go (Django's `clearsessions`), and the devices list's rows of logins
  that are over (allauth's user sessions: an address and a browser each).
- An ended couple's content (what was written in its dialogues, its topics, a therapist's
  coaching, notes and homework text, the partners' safety answers about it) is erased
  `RETENTION_ENDED_COUPLE_DAYS` after the couple ended. Both partners are emailed
  `RETENTION_WARNING_DAYS` before, once (the couple's `purge_warned_at` records it), and the
  content is never erased sooner than `RETENTION_WARNING_DAYS` after that warning, however
  late the purge runs. The apps above couples erase what they hold when they hear
  `signals.couple_purging`, the same way they erase a deleted account's words.
- Network addresses leave the audit trail after `AUDIT_IP_DAYS`.

Every run is idempotent and is recorded in the audit trail as one summary event (counts only).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.sessions.models import Session
from django.core.mail import send_mail
from django.core.management import call_command
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from couples import signals
from couples.models import Couple, Invitation, User
from live import clock
from security.audit import audit
from security.models import AuditEvent

logger = logging.getLogger("imago.retention")

DELETED_DOMAIN = "@deleted.invalid"  # the address a deleted account is left with


@dataclass(frozen=True)
class PurgeSummary:
    sessions: int
    couples_warned: int
    couples_purged: int
    audit_addresses: int


def _days(name: str) -> timedelta:
    return timedelta(days=int(getattr(settings, name)))


def purge_date(couple: Couple, *, now: datetime) -> datetime:
    """When this ended couple's content is erased: the retention period after it ended, but
    never sooner than the warning period after the warning (a warning sent late, e.g. after
    the purge was not run for a while, still gives the partners the full notice)."""
    assert couple.ended_at is not None
    due = couple.ended_at + _days("RETENTION_ENDED_COUPLE_DAYS")
    warned = couple.purge_warned_at or now
    return max(due, warned + _days("RETENTION_WARNING_DAYS"))


def _ended():
    return Couple.objects.filter(
        is_active=False, ended_at__isnull=False, content_purged_at__isnull=True
    )


def _recipients(couple: Couple) -> list[User]:
    """The partners to warn: accounts that still exist and can log in to download their data
    (a deleted account has no address; a deactivated one can't log in)."""
    return [
        user
        for user in User.objects.filter(memberships__couple=couple, is_active=True)
        if not user.email.endswith(DELETED_DOMAIN)
    ]


def couple_warn(couple: Couple, *, now: datetime) -> bool:
    """Email both partners that the couple's content will be erased; once only. The email
    names no one and quotes nothing: the date, and where to download their data."""
    with transaction.atomic():
        claimed = Couple.objects.filter(pk=couple.pk, purge_warned_at__isnull=True).update(
            purge_warned_at=now
        )
        if not claimed:
            return False  # warned already (another run got here first)
        couple.purge_warned_at = now
        recipients = _recipients(couple)
        context = {
            "ended_on": couple.ended_at,
            "erase_on": purge_date(couple, now=now),
            "data_url": settings.SITE_URL + reverse("couples:your_data"),
        }
        for user in recipients:  # one email each: partners never see each other's address
            with translation.override(user.language_code):  # the recipient's language
                subject = _("[Imago] What you wrote in an ended couple will be erased")
                message = render_to_string(
                    "couples/email/retention_warning.txt", {**context, "user": user}
                )
            send_mail(
                subject=subject, message=message, from_email=None, recipient_list=[user.email]
            )
        audit(action="retention.warned", target=couple, recipients=len(recipients))
    return True


@transaction.atomic
def couple_purge(couple: Couple, *, now: datetime) -> bool:
    """Erase an ended couple's content, as account deletion erases a person's words: each app
    erases what it holds (`signals.couple_purging`). The rows stay, emptied, with their dates."""
    couple = Couple.objects.select_for_update().get(pk=couple.pk)
    if couple.is_active or couple.content_purged_at is not None:
        return False
    signals.couple_purging.send(sender=Couple, couple=couple)
    Invitation.objects.filter(couple=couple).update(email="")
    couple.content_purged_at = now
    couple.save(update_fields=["content_purged_at"])
    audit(action="retention.couple_purged", target=couple)
    return True


def _sessions_clear() -> int:
    from allauth.usersessions.models import UserSession

    expired = Session.objects.filter(expire_date__lt=clock.now()).count()
    call_command("clearsessions")
    # The devices list's rows (an address, a browser) of logins that are over go with them.
    UserSession.objects.exclude(session_key__in=Session.objects.values("session_key")).delete()
    return expired


def retention_run(*, now: datetime | None = None) -> PurgeSummary:
    """The daily purge. Safe to run again at once, or from two machines: nothing is warned or
    erased twice."""
    now = now or clock.now()
    sessions = _sessions_clear()

    retention = _days("RETENTION_ENDED_COUPLE_DAYS")
    notice = _days("RETENTION_WARNING_DAYS")
    warned = 0
    for couple in _ended().filter(
        purge_warned_at__isnull=True, ended_at__lte=now - retention + notice
    ):
        try:
            warned += couple_warn(couple, now=now)
        except Exception:  # the email failed: not recorded as warned, so tried again tomorrow
            logger.exception("retention warning not sent", extra={"couple": couple.public_id})
    purged = 0
    for couple in _ended().filter(
        purge_warned_at__isnull=False,
        purge_warned_at__lte=now - notice,
        ended_at__lte=now - retention,
    ):
        purged += couple_purge(couple, now=now)

    addresses = AuditEvent.objects.filter(
        created_at__lt=now - _days("AUDIT_IP_DAYS"), ip_address__isnull=False
    ).update(ip_address=None)  # a queryset update: the one change the trail allows, as deletion

    summary = PurgeSummary(
        sessions=sessions, couples_warned=warned, couples_purged=purged, audit_addresses=addresses
    )
    audit(action="retention.purge", **asdict(summary))
    logger.info("retention purge", extra=asdict(summary))
    return summary
