"""Writes about dialogues. Every change locks the session row, checks the protocol, saves one
turn with the next sequence number and, after commit, tells the session's channel group.

Only ids travel over the channel layer; each consumer re-reads and renders for its own person.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import IntegrityError, transaction
from django.utils import timezone

from couples import safety
from couples.models import User
from couples.selectors import couple_for, partner_of
from dialogues import protocol
from dialogues.models import DialogueSession, Turn

logger = logging.getLogger("imago.dialogues")

MAX_TOPIC = 200
MAX_APPOINTMENT_MINUTES = 24 * 60
# Moves that begin the dialogue itself: both partners must be ready (see couples/safety.py).
STARTING_MOVES = frozenset({"accept_now", "begin"})


class DialogueError(Exception):
    """A move that can't be made; `message` is shown to the person as it is."""

    def __init__(self, message: str, *, stale: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.stale = stale


class NotReadyToStart(DialogueError):
    """A dialogue can't start until both partners have answered the safety questions and said
    they're ready. `mine` is True when it's the asker who isn't; about the partner, the message
    is the same whatever the reason."""

    def __init__(self, gate: safety.StartGate) -> None:
        self.mine = gate.mine != "ready"
        if gate.mine == "not_started":
            message = "Before your first dialogue, please answer a few private questions."
        elif gate.mine == "not_ready":
            message = "You haven't said you're ready to start yet."
        else:
            message = safety.PARTNER_NOT_READY
        super().__init__(message)


class DialogueNotFound(DialogueError):
    """No such session for this person (never says which)."""

    def __init__(self) -> None:
        super().__init__("That dialogue wasn't found.")


@dataclass(frozen=True)
class MoveResult:
    session: DialogueSession
    turn: Turn
    created: bool  # False when a replayed form token found the turn it already saved


# --- fan-out -----------------------------------------------------------------------------


def couple_group(couple_id: int) -> str:
    return f"couple.{couple_id}"


def _send(group: str, message: dict) -> None:
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:
        # The push is only a hint: PostgreSQL has the turn and every reconnect gets a snapshot.
        logger.warning("broadcast failed", extra={"group": group}, exc_info=True)


def send_after_commit(group: str, message: dict) -> None:
    """Send `message` (ids only) to `group` once the current transaction commits."""
    transaction.on_commit(lambda: _send(group, message))


def _broadcast_after_commit(session: DialogueSession, *, couple_too: bool = False) -> None:
    group, seq, couple_id = session.group_name, session.seq, session.couple_id

    def send() -> None:
        _send(group, {"type": "dialogue.changed", "seq": seq})
        if couple_too:
            _send(couple_group(couple_id), {"type": "couple.changed"})

    transaction.on_commit(send)


# --- helpers -------------------------------------------------------------------------------


def _locked_session_for(*, public_id: str, user: User) -> tuple[DialogueSession, str]:
    session = (
        DialogueSession.objects.select_for_update(of=("self",))
        .filter(public_id=public_id)
        .select_related("partner_a", "partner_b")
        .first()
    )
    slot = session.slot_of(user) if session else None
    if session is None or slot is None:
        raise DialogueNotFound()
    return session, slot


def _append_turn(
    session: DialogueSession,
    *,
    actor: User | None,
    actor_role: str,
    step: str,
    move: str,
    kind: str = Turn.Kind.MOVE,
    text: str = "",
    data: dict | None = None,
    client_token: str | None = None,
    visible_to: User | None = None,
) -> Turn:
    session.seq += 1
    session.updated_at = timezone.now()
    return Turn.objects.create(
        session=session,
        seq=session.seq,
        kind=kind,
        round=session.round,
        step=step,
        move=move,
        actor=actor,
        actor_role=actor_role,
        text=text,
        data=data or {},
        client_token=client_token or None,
        visible_to=visible_to,
    )


def _apply_state(session: DialogueSession, new: protocol.State) -> None:
    old = session.protocol_state
    session.state = new.to_dict()
    if (new.step, new.round) != (old.step, old.round):
        session.step_seq = session.seq
    session.step = new.step
    session.round = new.round
    if new.finished:
        session.status = DialogueSession.Status.COMPLETED
        session.ended_at = timezone.now()
        # Homework asking for a dialogue of this kind is done (in this transaction).
        from therapists.services import homework_complete_with

        homework_complete_with(session=session)


def _check_live(session: DialogueSession) -> None:
    if session.status == DialogueSession.Status.PAUSED:
        raise DialogueError("The dialogue is paused for a time-out. Resume it to go on.")
    if not session.is_live:
        raise DialogueError("This dialogue has ended; it can be read but not changed.")


# --- starting ------------------------------------------------------------------------------


def dialogue_start(*, user: User, kind: str, topic: str) -> DialogueSession:
    """The starter names the topic and asks for an appointment ("Is now a good time?")."""
    topic = (topic or "").strip()
    if not topic:
        raise DialogueError("Please name the topic in a short sentence.")
    if len(topic) > MAX_TOPIC:
        raise DialogueError(f"Please keep the topic under {MAX_TOPIC} characters.")
    try:
        kind = protocol.Kind(kind)
    except ValueError:
        raise DialogueError("Please choose a kind of dialogue.") from None
    couple = couple_for(user=user)
    partner = partner_of(user=user, couple=couple) if couple else None
    if couple is None or partner is None:
        raise DialogueError("You can start a dialogue once your partner has joined you.")
    gate = safety.start_gate(user=user, couple=couple, partner=partner)
    if not gate.open:
        raise NotReadyToStart(gate)
    state = protocol.start(kind)
    try:
        with transaction.atomic():
            session = DialogueSession.objects.create(
                couple=couple,
                kind=kind.value,
                topic=topic,
                partner_a=user,
                partner_b=partner,
                state=state.to_dict(),
                step=state.step,
                round=state.round,
            )
            _append_turn(
                session,
                actor=user,
                actor_role=protocol.role_of(state, "a"),
                step="start",
                move="ask",
                kind=Turn.Kind.EVENT,
                text=topic,
            )
            session.step_seq = session.seq
            session.save()
            _broadcast_after_commit(session, couple_too=True)
    except IntegrityError:
        raise DialogueError(
            "You already have a dialogue in progress. Finish or end it before starting another."
        ) from None
    logger.info("dialogue started", extra={"session": session.public_id, "kind": kind.value})
    return session


# --- moves ---------------------------------------------------------------------------------


def _payload_to_turn(
    session: DialogueSession, step: str, move: str, payload: dict
) -> tuple[str, dict]:
    text = payload.get("text") or ""
    data = {k: v for k, v in payload.items() if k != "text" and v not in (None, "", [], ())}
    if "choice" in data:
        requests = (
            session.turns.filter(round=session.round, data__has_key="items")
            .order_by("-seq")
            .first()
        )
        items = (requests.data.get("items") if requests else None) or []
        if 0 <= data["choice"] < len(items):
            data["gift"] = items[data["choice"]]
    return text, data


def move_submit(
    *,
    session_public_id: str,
    user: User,
    move: str,
    payload: Mapping[str, object] | None = None,
    at: int | None = None,
    token: str | None = None,
) -> MoveResult:
    """Make one protocol move. `at` is the step the form was made for; `token` the form's id.

    A replayed or double-clicked form (same token) returns the turn it saved the first time.
    """
    token = (token or "").strip()[:64] or None
    with transaction.atomic():
        session, slot = _locked_session_for(public_id=session_public_id, user=user)
        if token:
            existing = session.turns.filter(client_token=token).first()
            if existing is not None:
                return MoveResult(session=session, turn=existing, created=False)
        _check_live(session)
        if at is not None and at != session.step_seq:
            raise DialogueError(
                "The dialogue has moved on since this form was shown. Here is where it is now.",
                stale=True,
            )
        state = session.protocol_state
        if move in STARTING_MOVES and state.step in (protocol.APPOINTMENT, protocol.SCHEDULED):
            other = session.partner_in("b" if slot == "a" else "a")
            gate = safety.start_gate(user=user, couple=session.couple, partner=other)
            if not gate.open:
                raise NotReadyToStart(gate)
        try:
            clean = protocol.clean_payload(state, slot, move, dict(payload or {}))
            new_state = protocol.apply(state, slot, move, clean)
        except protocol.NoSuchMove as error:
            raise DialogueError(error.message, stale=True) from None
        except protocol.ProtocolError as error:
            raise DialogueError(error.message) from None
        if "time" in clean:
            try:
                minutes = int(str(clean["time"]))
            except ValueError:
                minutes = 0
            if not 1 <= minutes <= MAX_APPOINTMENT_MINUTES:
                raise DialogueError("Please choose a time within the next 24 hours.")
            session.scheduled_for = timezone.now() + timedelta(minutes=minutes)
        text, data = _payload_to_turn(session, state.step, move, clean)
        if "time" in data:
            data["time"] = session.scheduled_for.isoformat()
        turn = _append_turn(
            session,
            actor=user,
            actor_role=protocol.role_of(state, slot),
            step=state.step,
            move=move,
            text=text,
            data=data,
            client_token=token,
        )
        _apply_state(session, new_state)
        session.save()
        _broadcast_after_commit(session, couple_too=not session.is_live)
    logger.info(
        "dialogue move", extra={"session": session.public_id, "step": state.step, "move": move}
    )
    return MoveResult(session=session, turn=turn, created=True)


# --- time-out and ending -------------------------------------------------------------------


def _event_turn(session: DialogueSession, *, user: User, slot: str | None, event: str) -> Turn:
    return _append_turn(
        session,
        actor=user,
        actor_role=protocol.role_of(session.protocol_state, slot) if slot else "facilitator",
        step=session.step,
        move=event,
        kind=Turn.Kind.EVENT,
    )


def _pause(session: DialogueSession, *, by: User) -> None:
    session.status = DialogueSession.Status.PAUSED
    session.paused_by = by
    session.paused_at = timezone.now()
    session.ready_to_resume = []


def _resume(session: DialogueSession) -> None:
    session.status = DialogueSession.Status.ACTIVE
    session.paused_by = None
    session.paused_at = None
    session.ready_to_resume = []


def _end(session: DialogueSession) -> None:
    session.status = DialogueSession.Status.ENDED
    session.ended_at = timezone.now()
    session.paused_by = None
    session.paused_at = None
    session.ready_to_resume = []


def _session_event(*, session_public_id: str, user: User, event: str) -> DialogueSession:
    with transaction.atomic():
        session, slot = _locked_session_for(public_id=session_public_id, user=user)
        if not session.is_live:
            raise DialogueError("This dialogue has ended; it can be read but not changed.")
        status = session.status
        if event == "pause":
            if status == DialogueSession.Status.PAUSED:
                return session  # already paused: a double-click changes nothing
            _pause(session, by=user)
        elif event == "resume":
            if status != DialogueSession.Status.PAUSED:
                return session
            ready = set(session.ready_to_resume or [])
            if slot in ready:
                return session  # already said so: a double-click changes nothing
            ready.add(slot)
            if ready >= {"a", "b"}:
                _resume(session)
            else:
                session.ready_to_resume = sorted(ready)
                event = "ready"
        elif event == "end":
            _end(session)
        else:  # pragma: no cover - callers pass fixed names
            raise ValueError(event)
        _event_turn(session, user=user, slot=slot, event=event)
        session.save()
        _broadcast_after_commit(session, couple_too=True)
    logger.info("dialogue %s", event, extra={"session": session.public_id})
    return session


def session_pause(*, session_public_id: str, user: User) -> DialogueSession:
    """A time-out: the dialogue pauses for both partners until both are ready to go on."""
    return _session_event(session_public_id=session_public_id, user=user, event="pause")


def session_resume(*, session_public_id: str, user: User) -> DialogueSession:
    """This partner is ready to go on; the dialogue resumes once both are.

    The first to be ready adds a "ready" turn; the second, a "resume" turn.
    """
    return _session_event(session_public_id=session_public_id, user=user, event="resume")


def session_end(*, session_public_id: str, user: User) -> DialogueSession:
    """End early; the dialogue becomes read-only for both."""
    return _session_event(session_public_id=session_public_id, user=user, event="end")


def couple_dialogues_end(*, couple_id: int, user: User) -> None:
    """When a couple ends, its live dialogue ends too (called inside couple_leave)."""
    for session in DialogueSession.objects.filter(
        couple_id=couple_id, status__in=DialogueSession.LIVE
    ):
        session_end(session_public_id=session.public_id, user=user)


# --- facilitation: a linked therapist coaching and steering ---------------------------------

MAX_COACHING = protocol.MAX_TEXT
FACILITATOR = "facilitator"


def _locked_session_for_facilitator(*, public_id: str, therapist: User) -> DialogueSession:
    """Lock the session, then the therapist's link, and check access inside the transaction:
    verified, linked, both partners' consent in force. Otherwise: not found."""
    from couples.selectors import therapist_access_link

    if not getattr(therapist, "is_verified_therapist", False) or not public_id:
        raise DialogueNotFound()
    session = (
        DialogueSession.objects.select_for_update(of=("self",))
        .filter(public_id=public_id)
        .select_related("partner_a", "partner_b")
        .first()
    )
    if session is None:
        raise DialogueNotFound()
    link = therapist_access_link(therapist=therapist, couple_id=session.couple_id, for_update=True)
    if link is None:
        raise DialogueNotFound()
    return session


def coaching_send(*, session_public_id: str, therapist: User, text: str, to: str = "") -> Turn:
    """A short message from the therapist: to both partners (`to` empty), or privately to one
    partner (`to` = "a" or "b"), shown only in that partner's view."""
    text = (text or "").strip()
    if not text:
        raise DialogueError("Please write a short message first.")
    if len(text) > MAX_COACHING:
        raise DialogueError(f"Please keep your message under {MAX_COACHING} characters.")
    if to not in ("", "a", "b"):
        raise DialogueError("Please choose who the message is for.")
    with transaction.atomic():
        session = _locked_session_for_facilitator(public_id=session_public_id, therapist=therapist)
        if not session.is_live:
            raise DialogueError("This dialogue has ended; it can be read but not changed.")
        audience = session.partner_in(to) if to else None
        turn = _append_turn(
            session,
            actor=therapist,
            actor_role=FACILITATOR,
            step=session.step,
            move="coach",
            kind=Turn.Kind.COACHING,
            text=text,
            visible_to=audience,
        )
        session.save()
        _broadcast_after_commit(session)
    logger.info("dialogue coaching", extra={"session": session.public_id, "private": bool(to)})
    return turn


def session_rewind(*, session_public_id: str, therapist: User, step: str) -> DialogueSession:
    """Send the dialogue back to an earlier step of this round ("let's mirror that again"),
    only to a step the protocol allows; recorded as a "rewind" turn."""
    with transaction.atomic():
        session = _locked_session_for_facilitator(public_id=session_public_id, therapist=therapist)
        if not session.is_live:
            raise DialogueError("This dialogue has ended; it can be read but not changed.")
        state = session.protocol_state
        try:
            new_state = protocol.rewind(state, step)
        except protocol.ProtocolError as error:
            raise DialogueError(error.message) from None
        _append_turn(
            session,
            actor=therapist,
            actor_role=FACILITATOR,
            step=state.step,
            move="rewind",
            kind=Turn.Kind.EVENT,
            data={"from": state.step, "to": step},
        )
        _apply_state(session, new_state)
        session.save()
        _broadcast_after_commit(session)
    logger.info("dialogue rewind", extra={"session": session.public_id, "to": step})
    return session


def _facilitator_event(*, session_public_id: str, therapist: User, event: str) -> DialogueSession:
    with transaction.atomic():
        session = _locked_session_for_facilitator(public_id=session_public_id, therapist=therapist)
        if not session.is_live:
            raise DialogueError("This dialogue has ended; it can be read but not changed.")
        if event == "pause":
            if session.is_paused:
                return session  # already paused: a double-click changes nothing
            _pause(session, by=therapist)
        elif event == "resume":
            if not session.is_paused:
                return session  # not paused: nothing to do, nothing saved
            _resume(session)  # a facilitator's override: at once, for both
        elif event == "end":
            _end(session)
        else:  # pragma: no cover - callers pass fixed names
            raise ValueError(event)
        _event_turn(session, user=therapist, slot=None, event=event)
        session.save()
        _broadcast_after_commit(session, couple_too=True)
    logger.info("dialogue %s by facilitator", event, extra={"session": session.public_id})
    return session


def session_pause_by_facilitator(*, session_public_id: str, therapist: User) -> DialogueSession:
    """The therapist calls a time-out for both partners."""
    return _facilitator_event(
        session_public_id=session_public_id, therapist=therapist, event="pause"
    )


def session_resume_by_facilitator(*, session_public_id: str, therapist: User) -> DialogueSession:
    """The therapist resumes a time-out for both partners (a facilitator's override)."""
    return _facilitator_event(
        session_public_id=session_public_id, therapist=therapist, event="resume"
    )


def session_end_by_facilitator(*, session_public_id: str, therapist: User) -> DialogueSession:
    """The therapist ends the dialogue; it becomes read-only for both partners."""
    return _facilitator_event(session_public_id=session_public_id, therapist=therapist, event="end")


# --- account deletion ----------------------------------------------------------------------

REMOVED_NOTE = "(removed by its author)"


def turns_erase_by(*, user: User) -> int:
    """Erase what this person wrote in their dialogues (their account is being deleted).

    The turns stay, emptied and marked removed, so the partner's transcript still reads in
    order; topics this person named are replaced by a note.
    """
    erased = []
    for turn in Turn.objects.filter(actor=user).only("pk", "text", "data"):
        if turn.text or turn.data:
            turn.text, turn.data = "", {"removed": True}
            erased.append(turn)
    Turn.objects.bulk_update(erased, ["text", "data"], batch_size=500)
    DialogueSession.objects.filter(partner_a=user).update(topic=REMOVED_NOTE)
    logger.info("turns erased", extra={"count": len(erased)})
    return len(erased)
