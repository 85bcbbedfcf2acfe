"""Writes about dialogues, through one door.

Every change to a dialogue — a partner's move, a time-out, a resume, an end, and a linked
therapist's coaching, rewind, pause, resume or end — goes through `session_change`: it locks
the session row, asks a decision (which asks the protocol), appends one `Turn` with the next
sequence number, applies the new state, saves, and schedules the broadcast for after commit
(like healthchecks' `Check.create_flip`). Only ids travel over the channel layer.

Therapists' access is not known here: the therapists app registers its check
(`selectors.facilitator_check_register`) and hears completed dialogues (`dialogue_completed`);
the practice app hears gifts chosen (`gift_given`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy

import live
from couples.models import (
    FORM_OUT_OF_DATE,
    Couple,
    User,
    form_token_given,
    is_public_id,
    is_token,
)
from couples.selectors import couple_for, device_sharing_allowed, partner_of
from dialogues import calls, protocol, push, reminders, selectors
from dialogues.models import MAX_TOPIC, DialogueSession, Turn
from dialogues.selectors import dialogues_export, may_facilitate, round_requests
from live import clock, prepared
from live.prepared import Param, Prepared
from safety import selectors as safety

logger = logging.getLogger("imago.dialogues")

MAX_APPOINTMENT_MINUTES = 24 * 60
MAX_COACHING = protocol.MAX_TEXT
FACILITATOR = "facilitator"  # the actor role of a therapist's turns
SYSTEM = selectors.SYSTEM  # the actor role of what happens by itself (the appointed time came)
ENDED = _lazy("This dialogue has ended; it can be read but not changed.")
NOT_STARTED = _lazy("The dialogue hasn't started yet, so there's nothing to pause.")

# A dialogue was completed (inside its transaction). kwargs: session.
dialogue_completed = Signal()
# A partner chose a gift (inside its transaction). kwargs: session, turn (its data holds the
# request chosen under protocol.GIFT). The practice app makes it an agreement.
gift_given = Signal()


class DialogueError(Exception):
    """A move that can't be made; `message` is shown to the person as it is."""

    def __init__(self, message: str | Promise, *, stale: bool = False) -> None:
        message = str(message)  # in the language active when it is raised (the person's)
        super().__init__(message)
        self.message = message
        self.stale = stale


class PauseSuggested(DialogueError):
    """A starting move given with a private check-in that runs hot: a pause is suggested
    first and nothing is saved (the person may go on anyway, without the check-in)."""

    def __init__(self, checkin: safety.CheckIn) -> None:
        super().__init__("")
        self.checkin = checkin


class NotReadyToStart(DialogueError):
    """A dialogue can't start until both partners have answered the safety questions and said
    they're ready. `mine` is True when it's the asker who isn't; about the partner, the message
    is the same whatever the reason."""

    def __init__(self, gate: safety.StartGate) -> None:
        self.mine = gate.mine != "ready"
        if gate.mine == "not_started":
            message = _("Before your first dialogue, please answer a few private questions.")
        elif gate.mine == "not_ready":
            message = _("You haven't said you're ready to start yet.")
        else:
            message = safety.PARTNER_NOT_READY
        super().__init__(message)


class DialogueNotFound(DialogueError):
    """No such session for this person (never says which)."""

    def __init__(self) -> None:
        super().__init__(_("That dialogue wasn't found."))


@dataclass(frozen=True)
class MoveResult:
    session: DialogueSession
    turn: Turn | None  # None when the change was already made (a double-click)
    created: bool  # False when nothing new was saved (a replayed form token, a double-click)
    slot: str | None = None  # the person who asked for the change: their slot (None: not a partner)
    # Filled in once the change commits: its fragments, rendered once per audience.
    fragments: dict[str, dict] = field(default_factory=dict)


# --- the one door ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    """What one decision does to a dialogue: the turn it appends and the state it leaves.

    `state`: the protocol's new state (None: the step doesn't change). `status`: the session's
    new status (paused, active, ended), or None. `couple_too`: the couple's home pages change
    too (the dialogue started, paused, resumed or ended)."""

    move: str
    kind: str = Turn.Kind.MOVE
    step: str = ""  # the step the turn is recorded at (default: the current one)
    text: str = ""
    data: dict | None = None
    visible_to: User | None = None
    state: protocol.State | None = None
    status: str | None = None
    couple_too: bool = False
    role: str = ""  # the partner's role, when the decision knows it (default: asked of the state)


# decide(session, slot, actor) -> a Change, or None when there is nothing to do (a double-click).
# `slot` is "a" or "b" for a partner, None for a facilitator. It raises DialogueError.
Decide = Callable[[DialogueSession, str | None, User | None], Change | None]


# The two reads of every move, compiled once (live/prepared.py).
_LOCK = Prepared(
    lambda p: (
        DialogueSession.objects.select_for_update(of=("self",))
        .filter(public_id=p["public_id"])
        .select_related("partner_a", "partner_b")
    ),
    Param("public_id"),
)
_SAVED_BY_TOKEN = Prepared(
    lambda p: Turn.objects.filter(session_id=p["session_id"], client_token=p["token"]),
    Param("session_id", int),
    Param("token"),
)


def _locked(
    *, public_id: str, user: User | None, as_facilitator: bool, as_system: bool = False
) -> tuple[DialogueSession, str | None]:
    """The session row, locked, with its partners; and the person's slot (None: facilitator).
    Not theirs (or no access now): not found, whatever the reason."""
    if not is_public_id(public_id):
        raise DialogueNotFound()
    session = _LOCK.first(public_id=public_id)  # public_id is unique
    if session is None:
        raise DialogueNotFound()
    if (paused_by := session.slot_of_pk(session.paused_by_id)) is not None:
        session.paused_by = session.partner_in(paused_by)  # a partner: loaded already
    if as_system:
        return session, None
    if as_facilitator:
        if user is None or not may_facilitate(
            therapist=user, couple_id=session.couple_id, for_update=True
        ):
            raise DialogueNotFound()
        return session, None
    slot = session.slot_of(user)
    if slot is None:
        raise DialogueNotFound()
    return session, slot


def _append_turn(
    session: DialogueSession,
    change: Change,
    *,
    actor: User | None,
    actor_role: str,
    token: str | None,
    made_by: User | None = None,
) -> Turn:
    session.seq += 1
    session.updated_at = clock.now()  # the your-move sweep compares it with the clock
    turn = Turn(
        session=session,
        seq=session.seq,
        kind=change.kind,
        round=session.round,
        step=change.step or session.step,
        move=change.move,
        actor=actor,
        actor_role=actor_role,
        text=change.text,
        data=change.data or {},
        client_token=token,
        visible_to=change.visible_to,
        made_by=made_by,
    )
    prepared.insert(turn)  # INSERT ... RETURNING id, its SQL built once
    return turn


def _apply(session: DialogueSession, change: Change, *, actor: User | None) -> None:
    if change.state is not None:
        old, new = session.protocol_state, change.state
        session.state = new.to_dict()
        if (new.step, new.round) != (old.step, old.round):
            session.step_seq = session.seq
        session.step, session.round = new.step, new.round
        if new.finished:
            session.status = DialogueSession.Status.COMPLETED
            session.ended_at = clock.now()
            dialogue_completed.send(sender=DialogueSession, session=session)
    if change.status is not None:
        session.status = change.status
        paused = change.status == DialogueSession.Status.PAUSED
        session.paused_by = actor if paused else None
        session.paused_at = clock.now() if paused else None
        session.ready_to_resume = []
        if change.status == DialogueSession.Status.ENDED:
            session.ended_at = clock.now()


# What a change may update on the session row: only those that changed are written.
_PROGRESS_FIELDS = (
    "seq",
    "updated_at",
    "step_seq",
    "state",
    "step",
    "round",
    "status",
    "paused_by",
    "paused_at",
    "ready_to_resume",
    "scheduled_for",
    "minutes",
    "ended_at",
    "shared_device",
)


_ATTNAMES = {"paused_by": "paused_by_id", "shared_device": "shared_device_id"}


def _progress_of(session: DialogueSession) -> dict[str, object]:
    # Foreign keys by their id ("paused_by_id"): comparing them loads nobody.
    return {name: getattr(session, _ATTNAMES.get(name, name)) for name in _PROGRESS_FIELDS}


def _publish(session: DialogueSession, turn: Turn, result: MoveResult) -> None:
    """After commit: the change rendered and sent to the dialogue's sockets (push); its
    author's page answers from its own fragment."""
    author = FACILITATOR if turn.actor_role == FACILITATOR else result.slot
    result.fragments.update(push.change_published(session=session, turn=turn, author=author))


def session_change(
    *,
    session_public_id: str = "",
    user: User | None,
    decide: Decide,
    as_facilitator: bool = False,
    as_system: bool = False,
    token: str | None = None,
    create: Callable[[], DialogueSession] | None = None,
    for_partner: bool = False,
    token_required: bool = False,
) -> MoveResult:
    """The one way a dialogue changes, its creation included. `token`: the form's id; a
    replayed or double-clicked form finds the turn it saved the first time and saves nothing;
    `token_required`: a change without one is refused as a stale form is (nothing saved).
    `as_system`: a change nobody makes (the appointed time came); `user` is then only who
    `decide` acts for, and the turn has no actor. `create`: a new session, saved by it in this
    transaction (instead of locking `session_public_id`); its first turn is `decide`'s.
    `for_partner`: `user` makes the other partner's move on their own device (together on one
    device, `_for_partner`); the turn is the partner's, recorded as made there."""
    token = form_token_given(token)
    if token is None and token_required:
        raise DialogueError(str(FORM_OUT_OF_DATE), stale=True)
    if token is not None and not is_token(token):
        raise DialogueError(_("This form can't be sent as it is. Please reload the page."))
    creating = create is not None
    with transaction.atomic():
        if create is not None:
            session = create()  # nothing to lock: no one else can see it yet
            slot = None if as_facilitator or user is None else session.slot_of(user)
        else:
            session, slot = _locked(
                public_id=session_public_id,
                user=user,
                as_facilitator=as_facilitator,
                as_system=as_system,
            )
        if token:
            existing = _SAVED_BY_TOKEN.first(session_id=session.pk, token=token)
            if existing is not None:
                return MoveResult(session=session, turn=existing, created=False, slot=slot)
        acting, made_by, own = user, None, slot
        if for_partner:
            slot, acting = _for_partner(session, slot, user)
            made_by = user
        # A booked session's waiting room: a partner the therapist hasn't let in yet changes
        # nothing (one query, only in an open facilitated session), on their own device or
        # on the one taking both turns.
        people = {p.pk for p in (user, acting) if p is not None} if slot and not creating else ()
        if any(selectors.partner_held(session=session, user_pk=pk) for pk in people):
            raise DialogueError(selectors.WAITING_ROOM)
        # Decisions may change the session too. A new one had no progress before this turn.
        before = {} if creating else _progress_of(session)
        change = decide(session, slot, acting)
        if change is None:
            return MoveResult(session=session, turn=None, created=False, slot=own)
        actor = None if as_system else acting
        if as_system:
            role = SYSTEM
        elif not slot:
            role = FACILITATOR
        else:
            role = change.role or protocol.role_of(session.protocol_state, slot)
        turn = _append_turn(
            session, change, actor=actor, actor_role=role, token=token, made_by=made_by
        )
        _apply(session, change, actor=actor)
        if creating:
            session.step_seq = session.seq  # its first step begins with its first turn
        if turn.kind == Turn.Kind.MOVE and turn.move in protocol.GIFT_MOVES:
            gift_given.send(sender=Turn, session=session, turn=turn)
        after = _progress_of(session)
        prepared.update(session, [name for name in after if after[name] != before.get(name)])
        reminders.session_planned(session=session, before=before, turn=turn)
        result = MoveResult(session=session, turn=turn, created=True, slot=own)
        if change.couple_too or not session.is_live or creating:
            live.couple_changed(couple_id=session.couple_id)
            if not session.is_live and not session.is_planned and not creating:
                calls.dialogue_calls_end(public_id=session.public_id)  # ended: so are its calls
        # Rendered once the commit is done. A new dialogue's group has no sockets yet (its id
        # was made just now): nothing to render or send (a workshop starting sixty at once
        # spent half its time here); its couple's pages hear of it (`couple_changed` above).
        if not creating:
            transaction.on_commit(lambda: _publish(session, turn, result))
    # DEBUG, not INFO: a line per step was the database thread's costliest write (its GIL
    # hand-back after the write stalled moves behind the event loop; docs/performance.md).
    logger.debug(
        "dialogue %s",
        change.move,
        extra={"session": session.public_id, "step": turn.step, "by": role},
    )
    return result


def _for_partner(session: DialogueSession, slot: str | None, user: User | None) -> tuple[str, User]:
    """Together on one device: `user` (a partner of this session, `slot`) makes the other
    partner's move. Only in a said-aloud dialogue of their own couple, on the device it runs
    on together, and only while the other partner's permission stands (read now, in this
    transaction: its withdrawal ends it at once). The other partner's slot and person."""
    if slot is None or user is None:
        raise DialogueNotFound()
    other = session.partner_in(protocol.other_slot(slot))
    if (
        other is None
        or session.shared_device_id != user.pk
        or not session.protocol_state.aloud
        or not session.is_live
    ):
        raise DialogueError(
            _(
                "Taking turns together on this device isn't on for this dialogue. "
                "Here is where it is now."
            ),
            stale=True,
        )
    if not device_sharing_allowed(couple_id=session.couple_id, granted_by_id=other.pk):
        raise DialogueError(not_allowed_message(other), stale=True)
    return protocol.other_slot(slot), other


def not_allowed_message(other: User) -> str:
    """Why one device can't take both partners' turns: the other partner hasn't allowed it."""
    return _(
        "%(name)s hasn't allowed taking turns together on your device (or has withdrawn it). "
        "%(name)s can allow it once from their own account settings."
    ) % {"name": other.display_name}


# --- starting ------------------------------------------------------------------------------


def dialogue_start(
    *,
    user: User,
    kind: str,
    topic: str,
    facilitator: User | None = None,
    aloud: bool = False,
) -> DialogueSession:
    """The starter names the topic and asks for an appointment ("Is now a good time?").

    `facilitator`: a linked therapist who starts it for the couple (the caller has checked
    their access); `user` is then the partner who goes first, and the request is theirs.
    `aloud`: "We'll say it aloud" (the protocol's `State.aloud`; either can switch later)."""
    topic = (topic or "").strip()
    if not topic:
        raise DialogueError(_("Please name the topic in a short sentence."))
    if len(topic) > MAX_TOPIC:
        raise DialogueError(
            _("Please keep the topic under %(count)d characters.") % {"count": MAX_TOPIC}
        )
    if "\x00" in topic:
        raise DialogueError(_("Please write the topic as plain text."))
    try:
        kind = protocol.Kind(kind)
    except ValueError:
        raise DialogueError(_("Please choose a kind of dialogue.")) from None
    couple = couple_for(user=user)
    partner = partner_of(user=user, couple=couple) if couple else None
    if couple is None or partner is None:
        raise DialogueError(_("You can start a dialogue once your partner has joined you."))
    gate = safety.start_gate(user=user, couple=couple, partner=partner)
    if not gate.open:
        raise NotReadyToStart(gate)
    state = protocol.start(kind, aloud=aloud)

    def create() -> DialogueSession:
        return DialogueSession.objects.create(
            couple=couple,
            kind=kind.value,
            topic=topic,
            partner_a=user,
            partner_b=partner,
            state=state.to_dict(),
            step=state.step,
            round=state.round,
        )

    def ask(session: DialogueSession, slot: str | None, actor: User | None) -> Change:
        # The first turn: the appointment request, made by the starter (or their therapist).
        return Change(move=protocol.ASK, kind=Turn.Kind.EVENT, step=protocol.START, text=topic)

    try:
        session = session_change(
            user=facilitator or user,
            decide=ask,
            as_facilitator=facilitator is not None,
            create=create,
        ).session
    except IntegrityError:
        raise DialogueError(
            _("You already have a dialogue in progress. Finish or end it before starting another.")
        ) from None
    logger.info("dialogue started", extra={"session": session.public_id, "kind": kind.value})
    return session


# --- decisions: what each change does, asked of the protocol ---------------------------------


def _check_live(session: DialogueSession) -> None:
    if session.is_planned:
        raise DialogueError(
            _("This session opens by itself at its time; your therapist can move it.")
        )
    if session.status == DialogueSession.Status.PAUSED:
        raise DialogueError(_("The dialogue is paused for a time-out. Resume it to go on."))
    if not session.is_live:
        raise DialogueError(ENDED)


def _gift_of(session: DialogueSession, choice: int) -> str | None:
    """The request the receiver chose, from the round's latest requests."""
    items = round_requests(session)
    return items[choice] if 0 <= choice < len(items) else None


MOVED_ON = _lazy("The dialogue has moved on since this form was shown. Here is where it is now.")


def _moved_on(session: DialogueSession, *, at: int, actor: User) -> str:
    """Why a form made for an earlier step is refused. When the partner made the move that
    step was waiting for first (both clicked at once), say what they chose: one more query,
    only on this path."""
    first = (
        session.turns.filter(seq__gt=at, kind=Turn.Kind.MOVE)
        .exclude(step=protocol.START)
        .order_by("seq")
        .only("session", "seq", "step", "move", "actor")
        .first()
    )
    partner = session.partner_in(protocol.other_slot(session.slot_of(actor) or protocol.SLOTS[0]))
    if first is None or partner is None or first.actor_id != partner.pk:
        return str(MOVED_ON)
    step = protocol.STEPS.get(first.step)
    made = step.move(first.move) if step else None
    if made is None:
        return str(MOVED_ON)
    if made.quotes_label:
        return _("%(name)s said “%(label)s” just before you. Here is where it is now.") % {
            "name": partner.display_name,
            "label": made.label,
        }
    return _("%(name)s %(phrase)s just before you. Here is where it is now.") % {
        "name": partner.display_name,
        "phrase": made.phrase,
    }


def decide_move(
    *,
    move: str,
    payload: Mapping[str, object] | None,
    at: int | None,
    checkin: safety.CheckIn | None = None,
) -> Decide:
    """A partner's protocol move. `at` is the step the form was made for; `checkin` how the
    person feels, given with a move that starts the dialogue."""

    def decide(session: DialogueSession, slot: str | None, actor: User | None) -> Change:
        # Partners only: a facilitator (or the clock) never makes a partner's protocol move.
        assert slot is not None and actor is not None
        _check_live(session)
        if at is not None and at != session.step_seq:
            raise DialogueError(_moved_on(session, at=at, actor=actor), stale=True)
        try:
            decided = protocol.decide(session.protocol_state, slot, move, dict(payload or {}))
        except protocol.NoSuchMove as error:
            raise DialogueError(error.message, stale=True) from None
        except protocol.ProtocolError as error:
            raise DialogueError(error.message) from None
        if decided.starts:
            other = session.partner_in(protocol.other_slot(slot))
            gate = safety.start_gate(user=actor, couple=session.couple, partner=other)
            if not gate.open:
                raise NotReadyToStart(gate)
            if checkin is not None and checkin.suggests_a_pause:
                raise PauseSuggested(checkin)
        data = decided.data
        if "time" in data:
            moment = appointment_time(str(data["time"]), person=actor, now=clock.now())
            session.scheduled_for = moment
            data["time"] = moment.isoformat()
        if "choice" in data and (gift := _gift_of(session, data["choice"])) is not None:
            data[protocol.GIFT] = gift
        return Change(
            move=move,
            text=decided.text,
            data=data,
            state=decided.state,
            role=decided.role,
            couple_too=decided.starts or decided.schedules,
        )

    return decide


def appointment_time(value: str, *, person: User, now: datetime) -> datetime:
    """The moment a partner offers, in their own time zone: minutes from now ("90"), a time
    of day ("20:00": its next occurrence) or a local date and time ("2026-12-01T20:00").
    It must be in the future and within 24 hours."""
    value = (value or "").strip()[:40]
    zone = person.zone
    at: datetime | None = None
    if value.isdigit():
        at = now + timedelta(minutes=int(value))
    else:
        try:
            if "T" in value or " " in value.strip():
                parsed = datetime.fromisoformat(value)
                at = parsed if parsed.tzinfo else parsed.replace(tzinfo=zone)
            else:
                hour, minute = (int(part) for part in value.split(":")[:2])
                local_now = now.astimezone(zone)
                at = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
                if at <= local_now:
                    at = (local_now + timedelta(days=1)).replace(
                        hour=hour, minute=minute, second=0, microsecond=0
                    )
        except ValueError:
            at = None
    if at is None:
        raise DialogueError(_("Please choose a time, like 20:00, or one of the suggestions."))
    at = at.astimezone(timezone.get_default_timezone())
    if at <= now + timedelta(minutes=1):
        raise DialogueError(_("That time has passed; please choose a later one."))
    if at > now + timedelta(minutes=MAX_APPOINTMENT_MINUTES):
        raise DialogueError(_("Please choose a time within the next 24 hours."))
    return at.replace(microsecond=0)


def decide_cancel(session: DialogueSession, slot: str | None, actor: User | None) -> Change:
    """Either partner cancels an appointment made for later: the dialogue ends before it
    began, and the other is told (page, email, calendar)."""
    if not session.is_live:
        raise DialogueError(ENDED)
    if not protocol.may_cancel(session.protocol_state):
        raise DialogueError(_("There's no appointment to cancel now."), stale=True)
    return Change(
        move=protocol.CANCEL,
        kind=Turn.Kind.EVENT,
        status=DialogueSession.Status.ENDED,
        couple_too=True,
    )


def decide_open(session: DialogueSession, slot: str | None, actor: User | None) -> Change | None:
    """The appointed time came: the dialogue opens, and it is the sender's move. Nothing when
    it opened already (both began early), was cancelled or moved to a later time, or when a
    partner isn't ready (the safety gate, as for beginning by hand: the page says what is
    needed, and they begin once ready)."""
    at = session.scheduled_for
    if not session.waits_for_time or at is None:
        return None
    if at > clock.now():
        return None  # moved to a later time meanwhile
    if not _gate_open(session):
        return None
    return _opening(session)


def _gate_open(session: DialogueSession) -> bool:
    """Both partners' safety gate (safety.start_gate): open only when both are ready."""
    first, second = session.partner_a, session.partner_b
    if first is None or second is None:
        return False
    return safety.start_gate(user=first, couple=session.couple, partner=second).open


def _opening(session: DialogueSession, *, by_hand: bool = False) -> Change:
    """The waiting dialogue opens at its first step. A booked session that opens while the
    couple has another dialogue going ends that one first (one live dialogue per couple; the
    therapist's session is what they meet for), recorded there as an end nobody made.
    `by_hand`: someone opened it ("Begin now"); the transcript then says who, and whether it
    was before the appointed time — only the timed opening says the time came."""
    if session.is_planned:
        others = DialogueSession.objects.filter(
            couple_id=session.couple_id, status__in=DialogueSession.LIVE
        ).exclude(pk=session.pk)
        for public_id in others.values_list("public_id", flat=True):
            session_change(
                session_public_id=public_id, user=None, decide=decide_end, as_system=True
            )
    move = protocol.OPEN
    if by_hand:
        at = session.scheduled_for
        move = protocol.BEGIN_EARLY if at is not None and clock.now() < at else protocol.BEGIN
    return Change(
        move=move,
        kind=Turn.Kind.EVENT,
        state=protocol.open_scheduled(session.protocol_state),
        status=DialogueSession.Status.ACTIVE if session.is_planned else None,
        couple_too=True,
    )


# --- facilitated sessions a linked therapist books (therapists/services.py checks access) ---

MIN_SESSION_MINUTES = 15
MAX_SESSION_MINUTES = 180
MAX_BOOKING_DAYS = 365
NOT_BOOKED = _lazy("This session isn't waiting for its time any more.")


def booking_time(*, day: str, time: str, person: User, now: datetime) -> datetime:
    """The moment a therapist books, from a local date ("2026-12-08") and time ("18:00") in
    their own zone: at least 5 minutes ahead, within a year."""
    try:
        local = datetime.fromisoformat(f"{(day or '').strip()[:10]}T{(time or '').strip()[:5]}")
    except ValueError:
        raise DialogueError(
            _("Please give a date and a time, like 2026-12-08 and 18:00.")
        ) from None
    if local.tzinfo is not None:
        raise DialogueError(_("Please give a date and a time, like 2026-12-08 and 18:00."))
    at = local.replace(tzinfo=person.zone).astimezone(timezone.get_default_timezone())
    if at < now + timedelta(minutes=5):
        raise DialogueError(_("That time has passed or is too close; please choose a later one."))
    if at > now + timedelta(days=MAX_BOOKING_DAYS):
        raise DialogueError(_("Please choose a time within the next year."))
    return at


def booking_minutes(value: object) -> int:
    try:
        minutes = int(str(value).strip())
    except ValueError:
        minutes = 0
    if not MIN_SESSION_MINUTES <= minutes <= MAX_SESSION_MINUTES:
        raise DialogueError(
            _("Please choose a length from %(min)d to %(max)d minutes.")
            % {"min": MIN_SESSION_MINUTES, "max": MAX_SESSION_MINUTES}
        )
    return minutes


def _booking_clash(
    *, couple: Couple, at: datetime, minutes: int, exclude: int | None = None
) -> DialogueSession | None:
    """Another booked session of the couple that overlaps this time."""
    booked = DialogueSession.objects.filter(
        couple=couple, status=DialogueSession.Status.PLANNED, scheduled_for__isnull=False
    )
    if exclude is not None:
        booked = booked.exclude(pk=exclude)
    end = at + timedelta(minutes=minutes)
    for other in booked.filter(scheduled_for__lt=end):
        length = timedelta(minutes=other.minutes or MAX_SESSION_MINUTES)
        if other.scheduled_for and other.scheduled_for + length > at:
            return other
    return None


def session_book(
    *,
    couple: Couple,
    therapist: User,
    kind: str,
    at: datetime,
    minutes: int,
    first: User,
    second: User,
) -> tuple[DialogueSession, bool]:
    """A facilitated session for a set time, booked by a linked therapist (access checked,
    and the link row locked, by the caller's transaction). The same booking sent twice (a
    double click) finds the first: (session, False). Its calendar files and reminders are
    planned here, as for a partner's appointment (reminders.session_planned)."""
    try:
        kind = protocol.Kind(kind)
    except ValueError:
        raise DialogueError(_("Please choose a kind of dialogue.")) from None
    minutes = booking_minutes(minutes)
    same = DialogueSession.objects.filter(
        couple=couple,
        scheduled_by=therapist,
        status=DialogueSession.Status.PLANNED,
        scheduled_for=at,
    ).first()
    if same is not None:
        return same, False
    if _booking_clash(couple=couple, at=at, minutes=minutes) is not None:
        raise DialogueError(_("That overlaps another session booked with this couple."))
    state = protocol.start_booked(kind)

    def create() -> DialogueSession:
        return DialogueSession.objects.create(
            couple=couple,
            kind=kind.value,
            topic="",  # no one named it: its title is phrased when read (DialogueSession.title)
            partner_a=first,
            partner_b=second,
            state=state.to_dict(),
            step=state.step,
            round=state.round,
            status=DialogueSession.Status.PLANNED,
            scheduled_for=at,
            scheduled_by=therapist,
            minutes=minutes,
        )

    def book(session: DialogueSession, slot: str | None, actor: User | None) -> Change:
        return Change(move=protocol.BOOK, kind=Turn.Kind.EVENT, step=protocol.START)

    session = session_change(
        user=therapist, decide=book, as_facilitator=True, create=create
    ).session
    logger.info("session booked", extra={"session": session.public_id, "kind": kind.value})
    return session, True


def _check_booked(session: DialogueSession, actor: User | None) -> None:
    """A booked session, still waiting; changed only by the therapist who booked it (another
    therapist linked to the couple sees it, but it isn't theirs to move)."""
    if not session.is_facilitated or (actor is not None and actor.pk != session.scheduled_by_id):
        raise DialogueNotFound()
    if not session.is_planned or not session.waits_for_time:
        raise DialogueError(NOT_BOOKED, stale=True)


def decide_move_time(*, at: datetime, minutes: int) -> Decide:
    """The therapist moves a booked session to another time (or length): the partners are
    told (page, email, calendar) and the reminders follow the new time."""
    minutes = booking_minutes(minutes)

    def decide(session: DialogueSession, slot: str | None, actor: User | None) -> Change | None:
        _check_booked(session, actor)
        if session.scheduled_for == at and session.minutes == minutes:
            return None  # the same time again (a double click): nothing changes
        if _booking_clash(couple=session.couple, at=at, minutes=minutes, exclude=session.pk):
            raise DialogueError(_("That overlaps another session booked with this couple."))
        session.scheduled_for, session.minutes = at, minutes
        return Change(
            move=protocol.MOVE_TIME,
            kind=Turn.Kind.EVENT,
            data={"time": at.isoformat()},
            couple_too=True,
        )

    return decide


def decide_cancel_booked(
    session: DialogueSession, slot: str | None, actor: User | None
) -> Change | None:
    """The therapist cancels a booked session before it opens: the partners are told."""
    ended = session.is_facilitated and session.status == DialogueSession.Status.ENDED
    if ended and session.turns.filter(move=protocol.CANCEL).exists():
        return None  # cancelled already (a double click)
    _check_booked(session, actor)
    return Change(
        move=protocol.CANCEL,
        kind=Turn.Kind.EVENT,
        status=DialogueSession.Status.ENDED,
        couple_too=True,
    )


def decide_open_booked(
    session: DialogueSession, slot: str | None, actor: User | None
) -> Change | None:
    """The therapist opens a booked session now (everyone is here early, or the timed
    opening waited for a partner to be ready)."""
    if session.is_facilitated and session.is_live and not session.waits_for_time:
        return None  # opened already
    _check_booked(session, actor)
    if not _gate_open(session):
        raise DialogueError(
            _("It can't begin yet: a partner hasn't finished getting ready on their own page.")
        )
    return _opening(session, by_hand=True)


def decide_pause(session: DialogueSession, slot: str | None, actor: User | None) -> Change | None:
    """A time-out, by either partner or the facilitator: for both, at once."""
    if not session.is_live:
        raise DialogueError(ENDED)
    if session.is_paused:
        return None  # already paused: a double-click changes nothing
    state = session.protocol_state
    if not protocol.may_pause(state):
        if protocol.before_start(state):
            raise DialogueError(NOT_STARTED)
        raise DialogueError(_("A time-out isn't needed here."))
    return Change(
        move=protocol.PAUSE,
        kind=Turn.Kind.EVENT,
        status=DialogueSession.Status.PAUSED,
        couple_too=True,
    )


def decide_resume(session: DialogueSession, slot: str | None, actor: User | None) -> Change | None:
    """A partner is ready to go on: the dialogue resumes once both are (the first adds a
    "ready" turn, the second a "resume"). A facilitator resumes for both at once."""
    if not session.is_live:
        raise DialogueError(ENDED)
    if not session.is_paused:
        return None
    resume = Change(
        move=protocol.RESUME,
        kind=Turn.Kind.EVENT,
        status=DialogueSession.Status.ACTIVE,
        couple_too=True,
    )
    if slot is None:
        return resume  # a facilitator's override
    ready = set(session.ready_to_resume or [])
    if slot in ready:
        return None  # already said so: a double-click changes nothing
    if ready | {slot} >= set(protocol.SLOTS):
        return resume
    session.ready_to_resume = sorted(ready | {slot})
    return Change(move=protocol.READY, kind=Turn.Kind.EVENT, couple_too=True)


def decide_end(session: DialogueSession, slot: str | None, actor: User | None) -> Change:
    """End early; the dialogue becomes read-only for both."""
    if not session.is_live:
        raise DialogueError(ENDED)
    return Change(move=protocol.END, kind=Turn.Kind.EVENT, status=DialogueSession.Status.ENDED)


def decide_aloud(*, aloud: bool) -> Decide:
    """Either partner switches the dialogue to said aloud (words optional) or back to written:
    a recorded turn, the protocol's state changing only its mode (a form made for this step
    stays good). Written again, one device no longer takes both partners' turns."""

    def decide(session: DialogueSession, slot: str | None, actor: User | None) -> Change | None:
        _check_open(session)
        state = session.protocol_state
        if state.aloud == aloud:
            return None  # already so: a double click changes nothing
        try:
            new_state = protocol.said_aloud(state, aloud)
        except protocol.ProtocolError as error:
            raise DialogueError(error.message, stale=True) from None
        if not aloud:
            session.shared_device = None
        return Change(
            move=protocol.ALOUD_ON if aloud else protocol.ALOUD_OFF,
            kind=Turn.Kind.EVENT,
            state=new_state,
        )

    return decide


def _check_open(session: DialogueSession) -> None:
    """Open for the couple (a time-out included): not before a booked session opens, not once
    it has ended."""
    if session.is_planned:
        raise DialogueError(
            _("This session opens by itself at its time; your therapist can move it.")
        )
    if not session.is_live:
        raise DialogueError(ENDED)


def decide_together(*, on: bool) -> Decide:
    """Together on one device: the partner whose device it is (`actor`) starts taking both
    partners' turns, or either partner stops it. Starting needs a said-aloud dialogue and the
    other partner's standing permission."""

    def decide(session: DialogueSession, slot: str | None, actor: User | None) -> Change | None:
        assert slot is not None and actor is not None
        _check_open(session)
        if not on:
            if session.shared_device_id is None:
                return None
            session.shared_device = None
            return Change(move=protocol.TOGETHER_OFF, kind=Turn.Kind.EVENT)
        if session.shared_device_id == actor.pk:
            return None
        if not session.protocol_state.aloud:
            raise DialogueError(
                _(
                    "Taking turns on one device works when you say the dialogue aloud: choose "
                    "“We'll say it aloud” first."
                )
            )
        other = session.partner_in(protocol.other_slot(slot))
        if other is None or not device_sharing_allowed(
            couple_id=session.couple_id, granted_by_id=other.pk
        ):
            raise DialogueError(
                not_allowed_message(other) if other else _("Your partner has left this dialogue.")
            )
        session.shared_device = actor
        return Change(move=protocol.TOGETHER_ON, kind=Turn.Kind.EVENT)

    return decide


def decide_coaching(*, text: str, to: str) -> Decide:
    """A facilitator's short message: to both partners (`to` empty), or privately to one
    (`to` = "a" or "b"), shown only in that partner's view."""
    text = (text or "").strip()
    if not text:
        raise DialogueError(_("Please write a short message first."))
    if len(text) > MAX_COACHING:
        raise DialogueError(
            _("Please keep your message under %(count)d characters.") % {"count": MAX_COACHING}
        )
    if "\x00" in text:
        raise DialogueError(_("Please write your message as plain text."))
    if to not in ("", *protocol.SLOTS):
        raise DialogueError(_("Please choose who the message is for."))

    def decide(session: DialogueSession, slot: str | None, actor: User | None) -> Change:
        if not session.is_live:
            raise DialogueError(ENDED)
        return Change(
            move=protocol.COACH,
            kind=Turn.Kind.COACHING,
            text=text,
            visible_to=session.partner_in(to) if to else None,
        )

    return decide


# Lazy, shown as text wherever it is rendered (the console's page passes it on as a str).
REWIND_MOVED_ON = cast(
    str,
    _lazy(
        "The dialogue has moved on since you chose that step, so nothing was changed. "
        "Please choose again."
    ),
)


def decide_rewind(*, step: str, at: int | None = None) -> Decide:
    """Back to an earlier step of this round ("let's mirror that again"), only where the
    protocol allows. `at`: the step (its `step_seq`) the facilitator chose from; if the
    dialogue has moved on since, nothing changes."""

    def decide(session: DialogueSession, slot: str | None, actor: User | None) -> Change:
        if not session.is_live:
            raise DialogueError(ENDED)
        if at is not None and at != session.step_seq:
            raise DialogueError(REWIND_MOVED_ON, stale=True)
        state = session.protocol_state
        try:
            new_state = protocol.rewind(state, step)
        except protocol.ProtocolError as error:
            raise DialogueError(error.message) from None
        return Change(
            move=protocol.REWIND,
            kind=Turn.Kind.EVENT,
            data={"from": state.step, "to": step},
            state=new_state,
        )

    return decide


# --- partners' changes ------------------------------------------------------------------------


def move_submit(
    *,
    session_public_id: str,
    user: User,
    move: str,
    payload: Mapping[str, object] | None = None,
    at: int | None = None,
    token: str | None = None,
    for_partner: bool = False,
    checkin: safety.CheckIn | None = None,
) -> MoveResult:
    """Make one protocol move. `at` is the step the form was made for; `token` the form's id.
    `for_partner`: the other partner's move, made on this person's device (together on one
    device; `session_change` checks it may be). `checkin`: the private check-in posted with a
    move that starts the dialogue (`PauseSuggested` when it runs hot).

    A replayed or double-clicked form (same token) returns the turn it saved the first time;
    a move without its form's token is refused, as a stale form is (nothing saved).
    """
    decide = decide_move(move=move, payload=payload, at=at, checkin=checkin)
    return session_change(
        session_public_id=session_public_id,
        user=user,
        decide=decide,
        token=token,
        for_partner=for_partner,
        token_required=True,
    )


def session_aloud(*, session_public_id: str, user: User, aloud: bool) -> DialogueSession:
    """Switch between saying the dialogue aloud and writing it (either partner)."""
    return session_change(
        session_public_id=session_public_id, user=user, decide=decide_aloud(aloud=aloud)
    ).session


def session_together(*, session_public_id: str, user: User, on: bool) -> DialogueSession:
    """Start (on this person's device) or stop taking both partners' turns on one device."""
    return session_change(
        session_public_id=session_public_id, user=user, decide=decide_together(on=on)
    ).session


def session_pause(*, session_public_id: str, user: User) -> DialogueSession:
    """A time-out: the dialogue pauses for both partners until both are ready to go on."""
    return session_change(
        session_public_id=session_public_id, user=user, decide=decide_pause
    ).session


def session_resume(*, session_public_id: str, user: User) -> DialogueSession:
    """This partner is ready to go on; the dialogue resumes once both are."""
    return session_change(
        session_public_id=session_public_id, user=user, decide=decide_resume
    ).session


def session_cancel(*, session_public_id: str, user: User) -> DialogueSession:
    """Cancel the appointment made for later (either partner)."""
    return session_change(
        session_public_id=session_public_id, user=user, decide=decide_cancel
    ).session


def session_open_due(*, session_public_id: str) -> MoveResult:
    """The appointed time came (a background job): open the dialogue for both."""
    return session_change(
        session_public_id=session_public_id, user=None, decide=decide_open, as_system=True
    )


def session_end(*, session_public_id: str, user: User) -> DialogueSession:
    """End early; the dialogue becomes read-only for both."""
    return session_change(session_public_id=session_public_id, user=user, decide=decide_end).session


# --- what couples tells us (couples/signals.py, inside its transaction) ----------------------


def on_couple_ending(sender: object, *, couple: Couple, user: User, **kwargs: object) -> None:
    """When a couple ends, its live dialogue ends too."""
    for public_id in DialogueSession.objects.filter(
        couple=couple, status__in=DialogueSession.LIVE
    ).values_list("public_id", flat=True):
        session_end(session_public_id=public_id, user=user)


def on_device_sharing_revoked(
    sender: object, *, couple: Couple, user: User, **kwargs: object
) -> None:
    """A partner withdrew their permission: a dialogue running on the other's device for
    them both stops now (a recorded turn; the pages change at once, as for any step)."""
    for public_id in (
        DialogueSession.objects.filter(
            couple=couple, status__in=DialogueSession.LIVE, shared_device__isnull=False
        )
        .exclude(shared_device=user)
        .values_list("public_id", flat=True)
    ):
        session_change(session_public_id=public_id, user=user, decide=decide_together(on=False))


def on_account_deleting(sender: object, *, user: User, **kwargs: object) -> None:
    turns_erase_by(user=user)


def on_account_exporting(sender: object, *, user: User, **kwargs: object) -> dict:
    return {"dialogues": dialogues_export(user=user)}


def on_couple_purging(sender: object, *, couple: Couple, **kwargs: object) -> None:
    turns_erase_of(couple=couple)


# --- account deletion ----------------------------------------------------------------------

REMOVED_NOTE = "(removed by its author)"
PURGED_NOTE = "(erased after the retention period)"


# --- erasure: the one other write to turns ---------------------------------------------------
# Erasing is not a step of a dialogue: no move, no turn appended, nothing pushed; the words are
# emptied in place and the turns stay. It is reached only through couples' signals, each
# audited where it is sent: `account_deleting` (couples.services.account_delete writes
# "account.deleted") and `couple_purging` (couples/retention.py writes "retention.couple_purged").


def turns_erase_by(*, user: User) -> int:
    """Erase what this person wrote in their dialogues (their account is being deleted).

    The turns stay, emptied and marked removed, so the partner's transcript still reads in
    order; topics this person named are replaced by a note. A therapist's coaching meant for
    this person alone is about them and seen by nobody else: it is emptied too. A gift the
    partner chose quotes this person's request: the quote goes, the partner's own words stay.
    """
    erased = []
    mine_or_to_me = Turn.objects.filter(Q(actor=user) | Q(visible_to=user))
    for turn in mine_or_to_me.only("pk", "text", "data"):
        if turn.text or turn.data:
            turn.text, turn.data = "", {"removed": True}
            erased.append(turn)
    sessions = DialogueSession.objects.filter(Q(partner_a=user) | Q(partner_b=user))
    # Turns are encrypted: gifts are found by their move, then read in Python.
    quoting = Turn.objects.filter(
        session__in=sessions, kind=Turn.Kind.MOVE, move__in=protocol.GIFT_MOVES
    )
    for turn in quoting.exclude(actor=user).only("pk", "data"):
        if protocol.GIFT not in turn.data:
            continue
        turn.data = {**turn.data, protocol.GIFT: REMOVED_NOTE}
        erased.append(turn)
    Turn.objects.bulk_update(erased, ["text", "data"], batch_size=500)
    # (A booked session's topic is empty: no one wrote it.)
    DialogueSession.objects.filter(partner_a=user, scheduled_by__isnull=True).update(
        topic=REMOVED_NOTE
    )
    logger.info("turns erased", extra={"count": len(erased)})
    return len(erased)


def turns_erase_of(*, couple: Couple) -> int:
    """Erase everything written in an ended couple's dialogues (the retention period is over:
    couples/retention.py), as `turns_erase_by` erases one person's words: every turn stays,
    emptied and marked removed, and every topic is replaced by a note."""
    sessions = DialogueSession.objects.filter(couple=couple)
    erased = []
    for turn in Turn.objects.filter(session__in=sessions).only("pk", "text", "data"):
        if turn.text or turn.data:
            turn.text, turn.data = "", {"removed": "retention"}
            erased.append(turn)
    Turn.objects.bulk_update(erased, ["text", "data"], batch_size=500)
    sessions.update(topic=PURGED_NOTE)
    logger.info("turns erased", extra={"count": len(erased)})
    return len(erased)
