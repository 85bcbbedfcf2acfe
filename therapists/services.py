"""Writes for therapists: links and consent, notes, homework, and facilitating a live dialogue.

Each checks access inside its transaction. A therapist's access to a couple needs a verified,
active therapist, an active link and BOTH current partners' consent in force
(`selectors.therapist_access_link`); every change to a link is audited here.
"""

from __future__ import annotations

import datetime
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

import live
from couples import push
from couples.models import FORM_OUT_OF_DATE, Couple, User, form_token_given, hash_token, is_token
from couples.selectors import couple_for, partners_of
from dialogues import calls, protocol
from dialogues import services as dialogues
from dialogues.models import DialogueSession, Turn
from live import clock
from practice import selectors as practice_selectors
from practice.models import AGREEMENT_DAY, CARING, PRACTICES
from security.audit import audit
from therapists.models import (
    FORM_TOKEN,
    MAX_INSTRUCTIONS,
    MAX_NOTE,
    MAX_TITLE,
    CallAdmission,
    Consent,
    Homework,
    TherapistLink,
    TherapistNote,
    limit_text,
    new_link_code,
)
from therapists.selectors import (
    LinkedCouple,
    link_grants_access,
    links_and_homework_export,
    therapist_access_link,
)

if TYPE_CHECKING:
    from django.http import HttpRequest

logger = logging.getLogger("imago.therapists")


class TherapistError(Exception):
    """Something that can't be done; `message` is shown to the person as it is."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(TherapistError):
    def __init__(self) -> None:
        super().__init__(_("That wasn't found."))


class LinkNotFound(TherapistError):
    """No such therapist link for this person (never says which); views answer 404."""

    def __init__(self) -> None:
        super().__init__(_("That therapist link wasn't found."))


def _form_token(token: str | None) -> str:
    """A write form's one-time token: required (couples.models.form_token_given), so a
    replayed or double-clicked post saves nothing twice. Anything our forms can't have made
    (markup, spaces, a NUL byte, too long for models.FORM_TOKEN) is refused, as a move's is,
    not cut to fit."""
    token = form_token_given(token) or ""
    if not token:
        raise TherapistError(str(FORM_OUT_OF_DATE))
    if not is_token(token) or len(token) > FORM_TOKEN:
        raise TherapistError(_("This form can't be read. Please reload the page and try again."))
    return token


# --- links and consent ---------------------------------------------------------------------

LINK_CODE_VALID_DAYS = 7
THERAPIST_INVITATION_VALID_DAYS = 14


def _check_verified_therapist(user: User) -> None:
    if not user.is_therapist:
        raise TherapistError(_("Only therapist accounts can do that."))
    if not user.is_verified_therapist:
        raise TherapistError(
            _(
                "Your therapist account isn't verified yet. You can link to couples once our "
                "team has checked it."
            )
        )


def _my_couple_with_partner(user: User) -> Couple:
    couple = couple_for(user=user)
    if couple is None or user.is_therapist or user.is_staff:
        raise TherapistError(_("You can link a therapist once you're paired with your partner."))
    if couple.memberships.filter(is_active=True).count() < 2:
        raise TherapistError(_("You can link a therapist once your partner has joined you."))
    return couple


def _maybe_activate(link: TherapistLink, *, by: User, request: HttpRequest | None = None) -> None:
    """Access starts when the therapist has accepted and both partners have consented."""
    if link.status != TherapistLink.Status.PENDING or link.therapist_accepted_at is None:
        return
    if link.therapist is None or link.couple is None:
        return
    link.status = TherapistLink.Status.ACTIVE
    if not link_grants_access(link):
        link.status = TherapistLink.Status.PENDING
        return
    link.activated_at = clock.now()
    link.save(update_fields=["status", "activated_at"])
    live.dashboard_changed(therapist_pk=link.therapist_id)  # a couple to watch from now on
    audit(action="therapist_link.activated", actor=by, target=link, request=request)
    logger.info("therapist link active", extra={"link": link.public_id})


def _end_link(
    link: TherapistLink, *, reason: str, by: User | None, request: HttpRequest | None = None
) -> None:
    """The one way a link ends: consents close, consoles close, the couple's pages refresh,
    and the audit trail says why (`by` is None when it ended with something else: the couple
    ended, the therapist's account changed)."""
    was_active = link.status == TherapistLink.Status.ACTIVE
    link.status = TherapistLink.Status.ENDED
    link.ended_at = clock.now()
    link.end_reason = reason
    if link.code_hash and link.couple_id is None:
        link.code_hash = None
    link.save(update_fields=["status", "ended_at", "end_reason", "code_hash"])
    link.consents.filter(withdrawn_at__isnull=True).update(withdrawn_at=link.ended_at)
    if was_active:
        live.consoles_close(link_public_id=link.public_id, therapist_pk=link.therapist_id)
        if link.couple_id and link.therapist_id:
            _booked_sessions_cancel(therapist_id=link.therapist_id, couple_id=link.couple_id)
    if link.couple_id:
        live.couple_changed(couple_id=link.couple_id)
    live.dashboard_changed(therapist_pk=link.therapist_id)
    audit(action="therapist_link.ended", actor=by, target=link, request=request, reason=reason)


def _booked_sessions_cancel(*, therapist_id: int, couple_id: int) -> int:
    """Access ended: the sessions this therapist booked with the couple are cancelled, by
    nobody (the partners are told, their calendars drop them)."""
    booked = DialogueSession.objects.filter(
        couple_id=couple_id, scheduled_by_id=therapist_id, status=DialogueSession.Status.PLANNED
    ).values_list("public_id", flat=True)
    for public_id in list(booked):
        dialogues.session_change(
            session_public_id=public_id,
            user=None,
            decide=dialogues.decide_cancel_booked,
            as_system=True,
        )
    _waiting_rooms_open(therapist_id=therapist_id, couple_id=couple_id)
    return len(booked)


def _waiting_rooms_open(*, therapist_id: int, couple_id: int) -> None:
    """Access ended while a session they booked is open: nobody is left to let the partners
    in, so whoever still waits is let in now (their pages go on at once, as when admitted)."""
    sessions = DialogueSession.objects.filter(
        couple_id=couple_id, scheduled_by_id=therapist_id, status__in=DialogueSession.LIVE
    ).only("pk", "public_id", "partner_a_id", "partner_b_id")
    for session in sessions:
        for slot, partner_id in (("a", session.partner_a_id), ("b", session.partner_b_id)):
            if partner_id is None:
                continue
            _admission, created = CallAdmission.objects.get_or_create(
                session=session, partner_id=partner_id, defaults={"admitted_by_id": therapist_id}
            )
            if created:
                calls.call_admit_publish(public_id=session.public_id, user_pk=partner_id, slot=slot)


def _give_consent(link: TherapistLink, user: User, request: HttpRequest | None = None) -> Consent:
    consent, created = Consent.objects.get_or_create(link=link, partner=user)
    if not created and consent.withdrawn_at is not None:
        raise TherapistError(_("You withdrew your consent to this link. Please start a new one."))
    if created:
        audit(
            action="consent.given",
            actor=user,
            target=link,
            request=request,
            couple=link.couple.public_id if link.couple else "",
        )
    return consent


@transaction.atomic
def link_code_issue(*, therapist: User, token: str | None = None) -> TherapistLink:
    """A fresh link code the therapist gives to a couple (valid for a week, single use), on
    the returned link's `code`: only its hash is stored, so this is the one time it is known.
    `token`: the form's; a replayed or double-clicked form makes no second link: the same
    one gets a new code (if still open), since the page showing the first is gone."""
    _check_verified_therapist(therapist)
    token = _form_token(token)
    if token:
        User.objects.select_for_update().filter(pk=therapist.pk).first()  # one at a time
        made = TherapistLink.objects.filter(created_by=therapist, client_token=token).first()
        if made is not None:
            if made.code_hash and made.couple_id is None:
                made.code = _unused_code()
                made.code_hash = hash_token(made.code)
                made.save(update_fields=["code_hash"])
            return made
    code = _unused_code()
    now = clock.now()
    link = TherapistLink.objects.create(
        therapist=therapist,
        code_hash=hash_token(code),
        created_by=therapist,
        therapist_accepted_at=now,
        expires_at=now + timedelta(days=LINK_CODE_VALID_DAYS),
        client_token=token,
    )
    link.code = code
    audit(action="therapist_link.code_issued", actor=therapist, target=link)
    live.dashboard_changed(therapist_pk=therapist.pk)  # their other open dashboards
    return link


def _unused_code() -> str:
    for _attempt in range(5):
        code = new_link_code()
        if not TherapistLink.objects.filter(code_hash=hash_token(code)).exists():
            break
    return code


def _normalize_code(code: str) -> str:
    raw = "".join(ch for ch in (code or "").upper() if ch.isalnum())[:20]
    return f"{raw[:5]}-{raw[5:]}" if len(raw) == 10 else raw


def link_code_redeem(*, user: User, code: str, request: HttpRequest | None = None) -> TherapistLink:
    """A partner enters a therapist's code: the link is made for their couple, with their
    consent. Access starts once their partner consents too."""
    code = _normalize_code(code)
    if not code:
        raise TherapistError(_("Please enter the code your therapist gave you."))
    try:
        with transaction.atomic():
            couple = _my_couple_with_partner(user)
            link = (
                TherapistLink.objects.select_for_update(of=("self",))
                .select_related("therapist")
                .filter(
                    code_hash=hash_token(code),
                    couple__isnull=True,
                    status=TherapistLink.Status.PENDING,
                )
                .first()
            )
            if link is None or (link.expires_at and link.expires_at <= clock.now()):
                raise TherapistError(
                    _(
                        "That code isn't valid. Please check it, or ask your therapist for a "
                        "new one."
                    )
                )
            assert link.therapist is not None  # a code is only ever issued by a therapist
            if not link.therapist.is_verified_therapist or not link.therapist.is_active:
                raise TherapistError(_("This therapist can't be linked right now."))
            if TherapistLink.objects.filter(
                therapist=link.therapist, couple=couple, status__in=["pending", "active"]
            ).exists():
                raise TherapistError(_("You're already linked with this therapist."))
            link.couple = couple
            link.code_hash = None
            link.save(update_fields=["couple", "code_hash"])
            _give_consent(link, user, request)
            _maybe_activate(link, by=user, request=request)
            live.couple_changed(couple_id=couple.pk)
            live.dashboard_changed(therapist_pk=link.therapist_id)  # the code was used
    except IntegrityError as exc:
        raise TherapistError(_("You're already linked with this therapist.")) from exc
    return link


@transaction.atomic
def therapist_invite(
    *, user: User, email: str, request: HttpRequest | None = None, token: str | None = None
) -> TherapistLink:
    """A partner invites a therapist by email; the therapist accepts in a therapist account.
    `token`: the form's; a replayed or double-clicked form returns the invitation it made
    (one email)."""
    couple = _my_couple_with_partner(user)
    token = _form_token(token)
    # One invitation at a time per couple: two at once can't both pass the check below.
    Couple.objects.select_for_update().filter(pk=couple.pk).first()
    if token:
        made = TherapistLink.objects.filter(created_by=user, client_token=token).first()
        if made is not None:
            return made
    email = (email or "").strip().lower()
    if not email or "@" not in email or len(email) > 254:
        raise TherapistError(_("Please enter your therapist's email address."))
    if couple.memberships.filter(user__email__iexact=email).exists():
        raise TherapistError(_("That's a partner's address; please enter your therapist's."))
    if (
        TherapistLink.objects.filter(couple=couple, status__in=["pending", "active"])
        .filter(Q(invited_email__iexact=email) | Q(therapist__email__iexact=email))
        .exists()
    ):
        raise TherapistError(_("You've already invited or linked this therapist."))
    now = clock.now()
    link = TherapistLink.objects.create(
        couple=couple,
        invited_email=email,
        created_by=user,
        expires_at=now + timedelta(days=THERAPIST_INVITATION_VALID_DAYS),
        client_token=token,
    )
    _give_consent(link, user, request)
    audit(action="therapist_link.invited", actor=user, target=link, request=request)
    live.couple_changed(couple_id=couple.pk)
    invited = User.objects.filter(email__iexact=email, kind=User.Kind.THERAPIST).first()
    live.dashboard_changed(therapist_pk=invited.pk if invited else None)  # on their dashboard
    transaction.on_commit(lambda: _send_therapist_invitation(link, inviter=user))
    return link


def _invitation_language(link: TherapistLink, *, inviter: User) -> str:
    """The invitation's language: the recipient's if the address belongs to an account (a
    therapist who signed up first), else the inviting partner's."""
    recipient = User.objects.filter(email__iexact=link.invited_email).first()
    return (recipient or inviter).language_code


def _send_therapist_invitation(link: TherapistLink, *, inviter: User) -> None:
    context = {
        "inviter": inviter,
        "url": settings.SITE_URL + reverse("therapists:dashboard"),
        "days": THERAPIST_INVITATION_VALID_DAYS,
    }
    with translation.override(_invitation_language(link, inviter=inviter)):
        subject = _("[Imago] %(name)s invites you to facilitate their dialogues") % {
            "name": inviter.display_name
        }
        message = render_to_string("couples/email/therapist_invitation.txt", context)
    send_mail(
        subject=subject,
        message=message,
        from_email=None,
        recipient_list=[link.invited_email],
    )


def therapist_invitation_accept(
    *, therapist: User, link_public_id: str, request: HttpRequest | None = None
) -> TherapistLink:
    try:
        with transaction.atomic():
            _check_verified_therapist(therapist)
            link = (
                TherapistLink.objects.select_for_update(of=("self",))
                .select_related("couple")
                .filter(
                    public_id=link_public_id,
                    therapist__isnull=True,
                    invited_email__iexact=therapist.email,
                    status=TherapistLink.Status.PENDING,
                )
                .first()
            )
            if link is None:
                raise LinkNotFound()
            if link.expires_at and link.expires_at <= clock.now():
                raise TherapistError(_("That invitation has expired."))
            assert link.couple is not None  # an invitation is always made by a couple
            if not link.couple.is_active:
                raise TherapistError(_("This couple is no longer active."))
            link.therapist = therapist
            link.therapist_accepted_at = clock.now()
            link.save(update_fields=["therapist", "therapist_accepted_at"])
            audit(action="therapist_link.accepted", actor=therapist, target=link, request=request)
            _maybe_activate(link, by=therapist, request=request)
            live.couple_changed(couple_id=link.couple.pk)
    except IntegrityError as exc:
        raise TherapistError(_("You're already linked with this couple.")) from exc
    return link


@transaction.atomic
def therapist_link_end(
    *, therapist: User, link_public_id: str, request: HttpRequest | None = None
) -> TherapistLink:
    """The therapist declines an invitation, cancels a code, or ends a link."""
    link = (
        TherapistLink.objects.select_for_update(of=("self",))
        .filter(public_id=link_public_id, status__in=["pending", "active"])
        .filter(
            Q(therapist=therapist)
            | Q(therapist__isnull=True, invited_email__iexact=therapist.email)
        )
        .first()
    )
    if link is None or not therapist.is_therapist:
        raise LinkNotFound()
    reason = (
        TherapistLink.EndReason.DECLINED
        if link.therapist_id is None
        else TherapistLink.EndReason.THERAPIST
    )
    _end_link(link, reason=reason, by=therapist, request=request)
    return link


def _partner_link(user: User, link_public_id: str) -> TherapistLink:
    couple = couple_for(user=user)
    link = (
        TherapistLink.objects.select_for_update(of=("self",))
        .select_related("therapist", "couple")
        .filter(public_id=link_public_id, couple__isnull=False)
        .first()
        if couple is not None and not user.is_therapist
        else None
    )
    if link is None or couple is None or link.couple_id != couple.pk:
        raise LinkNotFound()
    return link


@transaction.atomic
def consent_give(
    *, user: User, link_public_id: str, request: HttpRequest | None = None
) -> TherapistLink:
    """A partner consents, in their own account. Access starts when both have."""
    link = _partner_link(user, link_public_id)
    if not link.is_open:
        raise TherapistError(_("This link has ended. Please start a new one if you'd like to."))
    if link.consents.filter(partner=user, withdrawn_at__isnull=True).exists():
        return link  # a double-click changes nothing
    _give_consent(link, user, request)
    _maybe_activate(link, by=user, request=request)
    assert link.couple_id is not None  # _partner_link: a link of the person's couple
    live.couple_changed(couple_id=link.couple_id)
    live.dashboard_changed(therapist_pk=link.therapist_id)  # "2 of 2 consented", or access
    return link


@transaction.atomic
def consent_withdraw(
    *, user: User, link_public_id: str, request: HttpRequest | None = None, decline: bool = False
) -> TherapistLink:
    """Either partner withdraws (or declines): the link ends at once, for both, and any open
    console socket of the therapist closes."""
    link = _partner_link(user, link_public_id)
    if not link.is_open:
        return link  # already ended: nothing to do
    consent = link.consents.filter(partner=user, withdrawn_at__isnull=True).first()
    if consent is not None:
        consent.withdrawn_at = clock.now()
        consent.save(update_fields=["withdrawn_at"])
    reason = TherapistLink.EndReason.DECLINED if decline else TherapistLink.EndReason.WITHDRAWN
    _end_link(link, reason=reason, by=user, request=request)
    assert link.couple is not None  # _partner_link: a link of the person's couple
    audit(
        action="consent.declined" if decline and consent is None else "consent.withdrawn",
        actor=user,
        target=link,
        request=request,
        couple=link.couple.public_id,
    )
    logger.info("therapist link ended by a partner", extra={"link": link.public_id})
    return link


def couple_therapist_links_end(*, couple: Couple) -> None:
    """When a couple ends, its therapist links end too (inside couple_leave's transaction)."""
    for link in TherapistLink.objects.select_for_update(of=("self",)).filter(
        couple=couple, status__in=["pending", "active"]
    ):
        _end_link(link, reason=TherapistLink.EndReason.COUPLE_ENDED, by=None)


def therapist_links_end_for(*, therapist: User, reason: str) -> int:
    """Every open link of this therapist ends, and their open consoles close: they were
    un-verified, switched off or deleted their account. Partners see the access is gone;
    a new link needs both partners' consent again."""
    ended = 0
    for link in TherapistLink.objects.select_for_update(of=("self",)).filter(
        therapist=therapist, status__in=["pending", "active"]
    ):
        _end_link(link, reason=reason, by=None)
        ended += 1
    if ended:
        logger.info("therapist links ended", extra={"count": ended, "reason": reason})
    return ended


@transaction.atomic
def therapist_link_end_by_staff(
    *, link: TherapistLink, by: User, request: HttpRequest | None = None
) -> TherapistLink:
    """Staff end a therapist's access to a couple (e.g. after a complaint); audited."""
    link = TherapistLink.objects.select_for_update(of=("self",)).get(pk=link.pk)
    if link.is_open:
        _end_link(link, reason=TherapistLink.EndReason.STAFF, by=by, request=request)
    return link


# --- notes and homework ----------------------------------------------------------------


def _access(therapist: User, couple_id: int) -> TherapistLink:
    link = therapist_access_link(therapist=therapist, couple_id=couple_id, for_update=True)
    if link is None:
        raise NotFound()
    return link


def _clean_text(text: str, *, limit: int, empty: str) -> str:
    text = (text or "").strip()
    if not text:
        raise TherapistError(empty)
    if len(text) > limit:
        raise TherapistError(
            _("Please keep it under %(limit)s characters.") % {"limit": limit_text(limit)}
        )
    return text


@transaction.atomic
def note_add(
    *,
    therapist: User,
    couple: Couple,
    text: str,
    session: DialogueSession | None = None,
    token: str | None = None,
) -> TherapistNote:
    """A private note, visible only to the therapist who writes it. `token`: the form's; a
    replayed or double-clicked form returns the note it saved."""
    text = _clean_text(text, limit=MAX_NOTE, empty=_("Please write the note first."))
    token = _form_token(token)
    if session is not None and session.couple_id != couple.pk:
        raise NotFound()
    _access(therapist, couple.pk)  # locks the link: one write at a time for this couple
    if token:
        saved = TherapistNote.objects.filter(therapist=therapist, client_token=token).first()
        if saved is not None:
            return saved
    note = TherapistNote.objects.create(
        therapist=therapist, couple=couple, session=session, text=text, client_token=token
    )
    logger.info("note added", extra={"note": note.public_id})
    return note


def dialogue_start_facilitated(
    *, therapist: User, couple: Couple, first: User, kind: str, topic: str
) -> DialogueSession:
    """A linked therapist starts a dialogue for the couple (a Parent-Child Dialogue is best
    begun with them present); `first` is the partner who goes first, as the sender. The other
    partner is asked whether now is a good time, as always."""
    if first not in partners_of(couple=couple):
        raise TherapistError(_("Please choose one of the two partners to go first."))
    with transaction.atomic():
        _access(therapist, couple.pk)  # locks the link: one write at a time for this couple
        try:
            session = dialogues.dialogue_start(
                user=first, kind=kind, topic=topic, facilitator=therapist
            )
        except dialogues.NotReadyToStart:
            raise TherapistError(
                _(
                    "This dialogue can't start yet: both partners first answer their private "
                    "questions and say they're ready."
                )
            ) from None
        except dialogues.DialogueError as error:
            raise TherapistError(error.message) from None
    audit(
        action="therapist.dialogue_started",
        actor=therapist,
        target=couple,
        session=session.public_id,
        kind=session.kind,
    )
    return session


@transaction.atomic
def homework_assign(
    *,
    therapist: User,
    couple: Couple,
    title: str,
    instructions: str = "",
    due_date: datetime.date | None = None,
    dialogue_kind: str = "",
    practice: str = "",
    practice_target: int | None = None,
    token: str | None = None,
) -> Homework:
    """Homework for the couple. `token`: the form's; a replayed or double-clicked form returns
    the homework it saved."""
    token = _form_token(token)
    title = _clean_text(title, limit=MAX_TITLE, empty=_("Please give the homework a short title."))
    instructions = (instructions or "").strip()
    if len(instructions) > MAX_INSTRUCTIONS:
        raise TherapistError(
            _("Please keep the instructions under %(limit)s characters.")
            % {"limit": limit_text(MAX_INSTRUCTIONS)}
        )
    if dialogue_kind and dialogue_kind not in {k.value for k in protocol.Kind}:
        raise TherapistError(_("Please choose one of the kinds of dialogue listed."))
    if due_date is not None and due_date < timezone.localdate(clock.now()):
        raise TherapistError(_("Please choose a due date from today on."))
    if practice and practice not in PRACTICES:
        raise TherapistError(_("Please choose one of the practices listed."))
    if practice and not (isinstance(practice_target, int) and 1 <= practice_target <= 14):
        raise TherapistError(_("Please say how many times a week, from 1 to 14."))
    if not practice:
        practice_target = None
    _access(therapist, couple.pk)  # locks the link: one write at a time for this couple
    if token:
        saved = Homework.objects.filter(couple=couple, client_token=token).first()
        if saved is not None:
            return saved
    homework = Homework.objects.create(
        couple=couple,
        therapist=therapist,
        title=title,
        instructions=instructions,
        due_date=due_date,
        dialogue_kind=dialogue_kind,
        practice=practice,
        practice_target=practice_target,
        client_token=token,
    )
    live.couple_changed(couple_id=couple.pk)
    logger.info("homework assigned", extra={"homework": homework.public_id})
    return homework


@transaction.atomic
def homework_mark_done(*, user: User, homework_public_id: str) -> Homework:
    """A partner marks their couple's homework done (a second click changes nothing)."""
    couple = couple_for(user=user)
    homework = (
        Homework.objects.select_for_update()
        .filter(public_id=homework_public_id, couple=couple)
        .first()
        if couple is not None and user.is_partner
        else None
    )
    if homework is None:
        raise NotFound()
    if homework.done_at is None:
        homework.done_at = clock.now()
        homework.done_by = user
        homework.save(update_fields=["done_at", "done_by"])
    return homework


def homework_complete_with(
    sender: object, *, session: DialogueSession, **kwargs: object
) -> Homework | None:
    """A completed dialogue completes the oldest open homework asking for its kind
    (dialogues.services.dialogue_completed, inside the transaction that completes it)."""
    homework = (
        Homework.objects.select_for_update()
        .filter(
            couple_id=session.couple_id,
            dialogue_kind=session.kind,
            done_at__isnull=True,
            created_at__lte=session.ended_at or clock.now(),
        )
        .order_by("created_at", "pk")
        .first()
    )
    if homework is None:
        return None
    homework.done_at = clock.now()
    homework.done_with = session
    homework.save(update_fields=["done_at", "done_with"])
    logger.info("homework done with a dialogue", extra={"homework": homework.public_id})
    return homework


def homework_complete_with_practice(
    sender: object, *, couple: Couple, practice: str, at: datetime.datetime, **kwargs: object
) -> list[Homework]:
    """The couple recorded a practice (practice.services.practice_recorded, inside its
    transaction): open homework asking for it is done once the couple has recorded it
    `practice_target` times within the last week, counting only since it was assigned."""
    open_homework = list(
        Homework.objects.select_for_update().filter(
            couple=couple, practice=practice, done_at__isnull=True, created_at__lte=at
        )
    )
    count = {
        CARING: practice_selectors.caring_given_since,
        AGREEMENT_DAY: practice_selectors.agreement_days_since,
    }[practice]
    done = []
    for homework in open_homework:
        since = max(homework.created_at, at - datetime.timedelta(days=7))
        if count(couple=couple, since=since) >= (homework.practice_target or 1):
            homework.done_at = clock.now()
            homework.save(update_fields=["done_at"])
            done.append(homework)
            logger.info("homework done with practice", extra={"homework": homework.public_id})
    return done


# --- account deletion ----------------------------------------------------------------------

REMOVED_NOTE = "(removed by its author)"
PURGED_NOTE = "(erased after the retention period)"


# --- facilitating a live dialogue: through the dialogues' one door -------------------------


def _facilitate(
    session_public_id: str, therapist: User, decide: dialogues.Decide, token: str | None = None
) -> dialogues.MoveResult:
    """Every facilitator action: access checked inside the transaction, with the link row
    locked (verified, linked, both partners' consent in force); otherwise not found."""
    return dialogues.session_change(
        session_public_id=session_public_id,
        user=therapist,
        decide=decide,
        as_facilitator=True,
        token=token,
    )


def coaching_send(
    *, session_public_id: str, therapist: User, text: str, to: str = "", token: str | None = None
) -> Turn:
    """A short message to both partners (`to` empty), or privately to one ("a" or "b"), shown
    only in that partner's view. `token`: the form's; a replayed or double-clicked form
    returns the turn it saved (the dialogues' door looks it up)."""
    decide = dialogues.decide_coaching(text=text, to=to)
    turn = _facilitate(session_public_id, therapist, decide, _form_token(token)).turn
    assert turn is not None
    return turn


def session_rewind(
    *, session_public_id: str, therapist: User, step: str, at: int | None = None
) -> DialogueSession:
    """Send the dialogue back to an earlier step of this round ("let's mirror that again"),
    only to a step the protocol allows; recorded as a "rewind" turn. `at`: the step the
    therapist confirmed from (the session's `step_seq` then): refused if it has moved on."""
    decide = dialogues.decide_rewind(step=step, at=at)
    return _facilitate(session_public_id, therapist, decide).session


def session_pause_by_facilitator(*, session_public_id: str, therapist: User) -> DialogueSession:
    """The therapist calls a time-out for both partners."""
    return _facilitate(session_public_id, therapist, dialogues.decide_pause).session


def session_resume_by_facilitator(*, session_public_id: str, therapist: User) -> DialogueSession:
    """The therapist resumes a time-out for both partners at once (a facilitator's override
    of the both-ready rule)."""
    return _facilitate(session_public_id, therapist, dialogues.decide_resume).session


def session_end_by_facilitator(*, session_public_id: str, therapist: User) -> DialogueSession:
    """The therapist ends the dialogue; it becomes read-only for both partners."""
    return _facilitate(session_public_id, therapist, dialogues.decide_end).session


# --- facilitated sessions: booked for a set time, through the dialogues' services ----------


def _as_therapist_error(error: dialogues.DialogueError) -> TherapistError:
    return (
        NotFound()
        if isinstance(error, dialogues.DialogueNotFound)
        else TherapistError(error.message)
    )


@transaction.atomic
def facilitated_book(
    *,
    therapist: User,
    couple: Couple,
    day: str,
    time: str,
    minutes: int,
    kind: str = protocol.Kind.INTENTIONAL.value,
    first: str = "",
) -> DialogueSession:
    """A linked therapist books a facilitated session with the couple, at a date and time in
    the therapist's own zone, for `minutes`; `first`: the public id of the partner who sends
    first (default: either, the couple's first). Both partners and the therapist get the
    calendar file and reminders; at its time it opens for all three. The same booking sent
    twice (a double click) saves one."""
    _access(therapist, couple.pk)  # locks the link: one write at a time for this couple
    partners = partners_of(couple=couple)
    if len(partners) != 2:
        raise NotFound()
    if first and first not in {p.public_id for p in partners}:
        raise TherapistError(_("Please choose which partner shares first."))
    if first == partners[1].public_id:
        partners.reverse()
    try:
        at = dialogues.booking_time(day=day, time=time, person=therapist, now=clock.now())
        session, created = dialogues.session_book(
            couple=couple,
            therapist=therapist,
            kind=kind,
            at=at,
            minutes=minutes,
            first=partners[0],
            second=partners[1],
        )
    except dialogues.DialogueError as error:
        raise _as_therapist_error(error) from None
    if created:
        live.dashboard_changed(therapist_pk=therapist.pk)
    return session


def facilitated_move(
    *, session_public_id: str, therapist: User, day: str, time: str, minutes: int
) -> DialogueSession:
    """The therapist who booked the session moves it (or changes its length); the partners
    are told, by page and email with the updated calendar file."""
    try:
        at = dialogues.booking_time(day=day, time=time, person=therapist, now=clock.now())
        decide = dialogues.decide_move_time(at=at, minutes=minutes)
        return _facilitate(session_public_id, therapist, decide).session
    except dialogues.DialogueError as error:
        raise _as_therapist_error(error) from None


def facilitated_cancel(*, session_public_id: str, therapist: User) -> DialogueSession:
    """The therapist who booked the session cancels it before it opens; the partners are
    told, by page and email with a calendar cancellation."""
    try:
        return _facilitate(session_public_id, therapist, dialogues.decide_cancel_booked).session
    except dialogues.DialogueError as error:
        raise _as_therapist_error(error) from None


def facilitated_open(*, session_public_id: str, therapist: User) -> DialogueSession:
    """The therapist opens a booked session now, for all three (if both partners are ready)."""
    return _facilitate(session_public_id, therapist, dialogues.decide_open_booked).session


# --- the waiting room of a booked session's call ------------------------------------------

ADMIT_WHO = ("a", "b", "both")


@transaction.atomic
def call_admit(
    *, session_public_id: str, therapist: User, who: str, token: str | None
) -> list[int]:
    """The therapist lets one partner (their slot, "a" or "b") or both into the call of a
    session they booked, from its waiting room. Idempotent: a partner admitted already is not
    admitted again. The partners' pages hear it (`call.admitted`, ids only) once it commits,
    and `dialogues.calls.call_admitted` is sent for each (a push may follow). Returns the pks
    of the partners admitted now."""
    _form_token(token)
    if who not in ADMIT_WHO:
        raise TherapistError(_("Please choose whom to let in."))
    session = DialogueSession.objects.filter(public_id=session_public_id).first()
    if session is None:
        raise NotFound()
    _access(therapist, session.couple_id)  # locks the link: one write at a time
    if not session.is_facilitated:
        raise TherapistError(_("Only a session you booked has a waiting room."))
    if not (session.is_live or session.is_planned):
        raise TherapistError(_("This session has ended, so its call has too."))
    slots = (("a", session.partner_a_id), ("b", session.partner_b_id))
    admitted: list[tuple[str, int]] = []
    for slot, partner_id in slots:
        if partner_id is None or who not in (slot, "both"):
            continue
        _admission, created = CallAdmission.objects.get_or_create(
            session=session, partner_id=partner_id, defaults={"admitted_by": therapist}
        )
        if created:
            admitted.append((slot, partner_id))
    path = reverse("dialogues:detail", args=[session.public_id])
    for slot, partner_id in admitted:
        calls.call_admit_publish(public_id=session.public_id, user_pk=partner_id, slot=slot)
        # "Your therapist let you in", to whoever chose it (planned in this transaction).
        push.notify(
            person=User.objects.get(pk=partner_id),
            kind=push.ADMITTED,
            key=f"admitted:{session.public_id}",
            path=path,
        )
    if admitted:
        logger.info("call admitted", extra={"session": session.public_id, "count": len(admitted)})
    return [partner_id for _slot, partner_id in admitted]


def call_admitted_partners(*, session_pk: int) -> frozenset[int]:
    """Registered with dialogues (apps.ready): the partners let into a booked session from
    its waiting room, in one query. Until then they see the waiting screen and move nothing."""
    return frozenset(
        CallAdmission.objects.filter(session_id=session_pk).values_list("partner_id", flat=True)
    )


def call_must_wait(*, session_public_id: str, user_pk: int) -> bool:
    """Registered with dialogues' calls (apps.ready): whether this partner waits in the
    waiting room: a session their therapist booked, and not admitted yet. A couple's own
    dialogue has no waiting room."""
    session = (
        DialogueSession.objects.filter(public_id=session_public_id)
        .values("pk", "scheduled_by_id")
        .first()
    )
    if session is None or session["scheduled_by_id"] is None:
        return False
    return not CallAdmission.objects.filter(session_id=session["pk"], partner_id=user_pk).exists()


def may_facilitate(*, therapist: User, couple_id: int, for_update: bool = False) -> bool:
    """Registered with dialogues (apps.ready): the one access check, asked by the dialogues'
    door, pages and sockets."""
    link = therapist_access_link(therapist=therapist, couple_id=couple_id, for_update=for_update)
    return link is not None


# --- what couples tells us (couples/signals.py, inside its transaction) -----------------------


def on_couple_ending(sender: object, *, couple: Couple, **kwargs: object) -> None:
    """When a couple ends, its therapist links end too."""
    couple_therapist_links_end(couple=couple)


def on_access_ending(sender: object, *, user: User, reason: str, **kwargs: object) -> None:
    """A therapist un-verified, switched off or deleted: every link ends, consoles close."""
    if user.is_therapist:
        therapist_links_end_for(therapist=user, reason=TherapistLink.EndReason(reason))


def on_account_exporting(sender: object, *, user: User, **kwargs: object) -> dict:
    return links_and_homework_export(user=user)


def on_account_deleting(sender: object, *, user: User, **kwargs: object) -> None:
    """Erase what this app holds of a person whose account is being deleted (docs/security.md,
    "Your data"); their links ended already (`on_couple_ending`, `on_access_ending`).

    A partner: every therapist's private notes about a couple they were in are deleted. Notes
    are about the couple, and can't be split into what is about whom; once the couple has
    ended no one, the therapist included, can open them again (never exported, never in the
    admin), so keeping them would keep private text about the person for no one. The
    therapist's clinical record of the work belongs in their own practice's records.

    A therapist: their private notes are deleted, what they wrote in homework is erased (the
    couple keeps the rows and whether they were done), couples' invitations still waiting for
    them end, and their address is taken out of every link made by inviting them.
    """
    couples = Couple.objects.filter(memberships__user=user)
    notes = TherapistNote.objects.filter(Q(therapist=user) | Q(couple__in=couples)).delete()[0]
    erased = 0
    if user.is_therapist:
        erased = Homework.objects.filter(therapist=user).update(title=REMOVED_NOTE, instructions="")
    invited = TherapistLink.objects.select_for_update(of=("self",)).filter(
        therapist__isnull=True, invited_email__iexact=user.email, status__in=["pending", "active"]
    )
    for link in invited:  # couples' invitations to this address can't be accepted any more
        _end_link(link, reason=TherapistLink.EndReason.DELETED, by=None)
    addressed = TherapistLink.objects.filter(invited_email__iexact=user.email).update(
        invited_email=""
    )
    logger.info(
        "therapist data erased", extra={"notes": notes, "homework": erased, "links": addressed}
    )


def on_couple_purging(sender: object, *, couple: Couple, **kwargs: object) -> None:
    """An ended couple's retention period is over (couples/retention.py): every therapist's
    private notes about it are deleted, homework text is erased (the rows stay, with whether
    they were done), and the addresses in its therapist invitations go."""
    notes = TherapistNote.objects.filter(couple=couple).delete()[0]
    erased = Homework.objects.filter(couple=couple).update(title=PURGED_NOTE, instructions="")
    TherapistLink.objects.filter(couple=couple).update(invited_email="")
    logger.info("therapist data erased", extra={"notes": notes, "homework": erased})


# --- the dashboard's questionnaire trend ----------------------------------------------------


def dashboard_satisfaction_read(
    *, therapist: User, couples: list[LinkedCouple], request: object = None
) -> None:
    """Fill each linked couple's one-glance questionnaire trend; a couple whose scores are
    shown is a read of their content, audited (a page load or a socket's render)."""
    for c in couples:
        couple = c.link.couple
        assert couple is not None
        c.satisfaction, shown = practice_selectors.measure_trend(
            couple=couple, partners=partners_of(couple=couple)
        )
        if shown:
            audit(
                action="therapist.read",
                actor=therapist,
                target=couple,
                request=request,
                what="measures_trend",
            )
