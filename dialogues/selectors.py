"""Reads about dialogues, shaped for the pages and pushes that show them.

The same functions feed the first page load, htmx responses and websocket pushes, so what a
person sees can't drift between them. Query counts do not grow with the number of turns.
"""

from __future__ import annotations

import functools
import math
import secrets
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from couples.models import Couple, User, is_public_id
from couples.selectors import device_sharing_allowed, partner_of
from dialogues import language, protocol
from dialogues.models import DialogueSession, Turn
from live import clock
from live.prepared import Param, Prepared
from safety import selectors as safety

PARTNER = "partner"
FACILITATOR = "facilitator"
SYSTEM = "system"  # the actor role of what happens by itself (services.SYSTEM)

APPOINTMENT_CHOICES = [
    (15, gettext_lazy("In 15 minutes")),
    (30, gettext_lazy("In 30 minutes")),
    (60, gettext_lazy("In 1 hour")),
    (120, gettext_lazy("In 2 hours")),
    (180, gettext_lazy("In 3 hours")),
    (240, gettext_lazy("In 4 hours")),
    (360, gettext_lazy("In 6 hours")),
    (480, gettext_lazy("In 8 hours")),
    (720, gettext_lazy("In 12 hours")),
    (1440, gettext_lazy("Tomorrow, at this time")),
]


def _audience(*, visible_to: object, actor: object) -> Q:
    return Q(visible_to__isnull=True) | Q(visible_to=visible_to) | Q(actor=actor)


# What every page, snapshot and reconnect reads, compiled to SQL once (live/prepared.py).
_WITH_PARTNERS = Prepared(
    lambda p: DialogueSession.objects.select_related("partner_a", "partner_b").filter(
        public_id=p["public_id"]
    ),
    Param("public_id"),
)
_TURNS_FOR = Prepared(
    lambda p: (
        Turn.objects.filter(session_id=p["session_id"], seq__gt=p["after"], seq__lte=p["seq"])
        .filter(_audience(visible_to=p["visible_to"], actor=p["actor"]))
        .order_by("seq")
    ),
    Param("session_id", int),
    Param("after", int, positive=True),
    Param("seq", int, positive=True),
    Param("visible_to", int),
    Param("actor", int),
)


def _people_of(session: DialogueSession) -> dict[int, User]:
    return {p.pk: p for p in (session.partner_a, session.partner_b) if p is not None}


def session_with_partners(public_id: str) -> DialogueSession | None:
    """The session and its two partners in one query. They are who acts, who a private turn
    is for and who paused, nearly always: a push is rendered for every socket of every step,
    so nothing else is joined (the couple, or a therapist who paused, is read when needed)."""
    if not is_public_id(public_id):
        return None  # never a public id (and PostgreSQL refuses NUL bytes outright)
    session = _WITH_PARTNERS.first(public_id=public_id)  # public_id is unique
    if session is not None and session.paused_by_id:
        known = _people_of(session)
        if session.paused_by_id in known:
            session.paused_by = known[session.paused_by_id]
    return session


def dialogue_for(*, public_id: str, user: User) -> DialogueSession | None:
    """The session if this person is one of its partners (None otherwise, whatever the reason)."""
    if not user.is_authenticated or not is_public_id(public_id):
        return None
    session = session_with_partners(public_id)
    if session is None or session.slot_of(user) is None:
        return None
    return session


# --- who may facilitate: the therapists app registers its check ------------------------

# check(therapist=..., couple_id=..., for_update=...) -> bool. Called inside the transaction.
FacilitatorCheck = Callable[..., bool]
_facilitator_checks: list[FacilitatorCheck] = []


def facilitator_check_register(check: FacilitatorCheck) -> None:
    """The therapists app tells dialogues how to know a therapist's access (apps.ready)."""
    if check not in _facilitator_checks:
        _facilitator_checks.append(check)


def may_facilitate(*, therapist: User, couple_id: int, for_update: bool = False) -> bool:
    """Whether this person may watch and steer the couple's dialogues now."""
    if not getattr(therapist, "is_verified_therapist", False):
        return False
    return any(
        check(therapist=therapist, couple_id=couple_id, for_update=for_update)
        for check in _facilitator_checks
    )


# --- the waiting room of a facilitated session: the therapists app registers who is let in ---

# admitted(session_pk=...) -> the pks of the partners their therapist has let in. One query,
# asked only for a therapist's booked session that is open (a couple's own dialogue has no
# waiting room, and its hot path reads nothing more).
Admitted = Callable[..., frozenset[int]]
_admitted: list[Admitted] = []
_ADMITTED = "_imago_admitted"  # the answer, kept on the session object for its renders

WAITING_ROOM = gettext_lazy(
    "You are in the waiting room: your therapist will let you in shortly. Until then, "
    "nothing can be changed in this session from here."
)


def admitted_register(admitted: Admitted) -> None:
    """The therapists app tells dialogues who is let into a booked session (apps.ready)."""
    if admitted not in _admitted:
        _admitted.append(admitted)


def partner_held(*, session: DialogueSession, user_pk: int) -> bool:
    """Whether this partner waits in the waiting room of an open facilitated session (not let
    in by the therapist yet): they see the waiting screen, and their changes are refused."""
    if not session.is_facilitated or not session.is_live or not _admitted:
        return False
    if session.slot_of_pk(user_pk) is None:
        return False  # the therapist, or nobody of this session
    admitted: frozenset[int] | None = getattr(session, _ADMITTED, None)
    if admitted is None:
        admitted = frozenset(pk for a in _admitted for pk in a(session_pk=session.pk))
        setattr(session, _ADMITTED, admitted)
    return user_pk not in admitted


def dialogue_for_facilitator(*, public_id: str, user: User) -> DialogueSession | None:
    """The session if this person may facilitate it now (None otherwise, whatever the
    reason)."""
    if not user.is_authenticated or not is_public_id(public_id):
        return None
    if not user.is_verified_therapist:
        return None
    session = session_with_partners(public_id)
    if session is None or not may_facilitate(therapist=user, couple_id=session.couple_id):
        return None
    return session


def dialogue_for_viewer(*, public_id: str, user: User, role: str) -> DialogueSession | None:
    if role == FACILITATOR:
        return dialogue_for_facilitator(public_id=public_id, user=user)
    return dialogue_for(public_id=public_id, user=user)


def turns_of(*, session: DialogueSession, viewer: User, after: int = 0) -> list[Turn]:
    """The turns after `after` that this person may see (others are simply not there), up to
    the session's `seq` as this instance read it.

    A step may be saved between reading the session and reading its turns; without the upper
    bound a page or push would show that turn under an older sequence number, and the browser
    would append it a second time when its own update arrives."""
    turns = _TURNS_FOR.fetch(
        session_id=session.pk,
        after=after,
        seq=session.seq,
        visible_to=viewer.pk,
        actor=viewer.pk,
    )
    # Who acted and whom a turn was for: the partners already loaded with the session; any
    # one else (a therapist) in one more query, only when there is such a turn.
    known = _people_of(session)
    others = {t.actor_id for t in turns} | {t.visible_to_id for t in turns}
    others -= {None, *known}
    if others:
        known.update(User.objects.in_bulk(others))
    for turn in turns:
        if turn.actor_id in known:
            turn.actor = known[turn.actor_id]
        if turn.made_by_id in known:  # together on one device: always a partner
            turn.made_by = known[turn.made_by_id]
        if turn.visible_to_id in known:
            turn.visible_to = known[turn.visible_to_id]
    return turns


# --- turns ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TurnView:
    seq: int
    is_event: bool
    is_mine: bool
    is_coaching: bool
    is_facilitator: bool
    is_private: bool  # meant for one partner only
    private_for: str  # that partner's name, as the viewer should read it ("you" for them)
    actor_name: str
    role: str
    title: str
    phrase: str  # "mirrored", "asked to talk", ...
    text: str
    said: str  # what a move without text says, e.g. "Yes, you got it"
    feelings: list[str]
    items: list[str]
    gift: str
    rating: int | None
    time: str
    created_at: object
    removed: bool = False  # erased when its author deleted their account, or by retention
    removed_note: str = ""  # "(removed by its author)", in the viewer's language
    lang: str = ""  # the language its author writes in (what they wrote is shown as written)

    aloud: bool = False  # said aloud: its words were said, not written (none are made up)
    # Together on one device: "on your device" / "on Alex's device" (else empty).
    made_on: str = ""
    quotes_said: bool = False  # the announcement quotes `said` ("said: Yes, you got it")
    said_label: str = ""  # the move's button, which a typed text may repeat ("Not quite: …")

    # A move that left nothing to show (an acknowledgement without words): shown as a line
    # saying what was done, never as a blank card. Set once, read by the template as is.
    is_empty: bool = field(init=False)

    def __post_init__(self) -> None:
        parts = (self.text, self.said, self.feelings, self.items, self.gift, self.rating, self.time)
        shown = self.is_event or self.is_coaching or self.removed or any(parts)
        object.__setattr__(self, "is_empty", not shown)

    @property
    def announcement(self) -> str:
        """One plain line for screen readers when the turn appears: who did what, and what
        they wrote, each said once ("Alex said not quite: on Sundays.", "Alex switched
        roles.")."""
        if self.removed:
            return _("%(name)s %(phrase)s.") % {"name": self.actor_name, "phrase": self.phrase}
        if self.is_coaching:
            if self.is_private:
                line = _("Privately from your therapist, %(name)s: %(text)s")
            else:
                line = _("From the therapist, %(name)s: %(text)s")
            return line % {"name": self.actor_name, "text": _sentence(self.text)}
        what = _without_prefix(self.text, self.said_label)
        if not what and self.quotes_said:
            what = self.said
        if self.is_event and self.text:  # the request to talk names the topic
            return _("%(name)s %(phrase)s: %(topic)s Is now a good time?") % {
                "name": self.actor_name,
                "phrase": self.phrase,
                "topic": _sentence(what),
            }
        said = [_sentence(what)] if what else []
        said += [_sentence(item) for item in self.items]
        if self.gift:
            said.append(_sentence(self.gift))
        if said:
            return _("%(name)s %(phrase)s: %(said)s") % {
                "name": self.actor_name,
                "phrase": self.phrase,
                "said": " ".join(said),
            }
        return _("%(name)s %(phrase)s.") % {"name": self.actor_name, "phrase": self.phrase}

    @property
    def time_at(self) -> datetime | None:
        """The proposed time as a moment (shown in the viewer's zone)."""
        try:
            return datetime.fromisoformat(self.time) if self.time else None
        except ValueError:
            return None


def _sentence(text: str) -> str:
    """Text as one spoken sentence: its line breaks as spaces, ending with a full stop."""
    text = " ".join(text.split())
    return text if not text or text[-1] in ".!?…”\"'" else f"{text}."


_AFTER_A_LABEL = frozenset(":;,.-…\u2013\u2014")  # ... and the en and em dashes


def _without_prefix(text: str, label: str) -> str:
    """The text without a leading repeat of the move's button, when punctuation follows it
    (a typed "Not quite: on Sundays" after "Alex said not quite")."""
    stripped = text.strip()
    head = stripped[: len(label)]
    rest = stripped[len(label) :]
    if label and head.lower() == label.lower() and rest[:1] in _AFTER_A_LABEL:
        rest = rest.lstrip(" " + "".join(_AFTER_A_LABEL))
        if rest:
            return rest
    return stripped


def _actor_name(turn: Turn) -> str:
    if turn.actor_role == SYSTEM:
        return ""  # what happened by itself ("The appointed time came; …")
    if turn.actor is None:
        return _("Someone")
    if turn.actor_role == FACILITATOR:
        return _("%(name)s (therapist)") % {"name": turn.actor.display_name}
    return turn.actor.display_name


_BY_ITSELF = {
    protocol.OPEN: gettext_lazy("The workshop's practice began"),
    protocol.PAUSE: gettext_lazy("Back to the group: the practice paused"),
    protocol.RESUME: gettext_lazy("The practice went on"),
    protocol.END: gettext_lazy("The practice ended: the workshop moved on"),
}


def turn_view(turn: Turn, *, viewer: User) -> TurnView:
    actor_name = _actor_name(turn)
    is_mine = turn.actor_id == viewer.pk
    private_for = ""
    if turn.visible_to_id == viewer.pk:
        private_for = "you"
    elif turn.visible_to is not None:  # no query when visible_to_id is None
        private_for = turn.visible_to.display_name
    quotes_said, said_label = False, ""
    # What was done, said of "you" or of someone else (languages conjugate the two apart).
    events = protocol.MY_EVENT_PHRASES if is_mine else protocol.EVENT_PHRASES
    if turn.kind == Turn.Kind.COACHING:
        title, phrase, said = _("Coaching"), events[protocol.COACH], ""
    elif turn.kind == Turn.Kind.EVENT and turn.move == protocol.REWIND:
        target = protocol.words_of((turn.data or {}).get("to", ""))
        title, said = "", ""
        where = target.title if target else _("an earlier step")
        phrase = f"{events[protocol.REWIND]} {where}"
    elif (
        turn.kind == Turn.Kind.EVENT
        and turn.actor_role == SYSTEM
        and turn.move in _BY_ITSELF
        and (turn.data or {}).get("workshop")
    ):
        # Begun, paused, resumed or ended by nobody: a workshop's presenter started a practice,
        # called the group back, the practice went on, or the next one began
        # (therapists/workshops/services.py).
        title, phrase, said = "", str(_BY_ITSELF[turn.move]), ""
    elif turn.kind == Turn.Kind.EVENT:
        title, phrase, said = "", events.get(turn.move, turn.move), ""
    else:
        step = protocol.words_of(turn.step)
        move = step.moves.get(turn.move) if step else None
        title = step.title if step else turn.step
        mine, theirs = (move.my_phrase, move.phrase) if move else (title.lower(), title.lower())
        phrase = mine if is_mine else theirs
        said = move.label if move and not turn.text and not move.fields else ""
        quotes_said = bool(move and move.quotes_label)
        said_label = move.label if move else ""
    data = turn.data or {}
    aloud = bool(data.get("aloud")) and turn.kind == Turn.Kind.MOVE
    if aloud:
        phrase = protocol.aloud_phrase(phrase)  # "mirrored, aloud"
    made_on = ""
    if turn.made_by_id is not None:
        made_on = (
            _("on your device")
            if turn.made_by_id == viewer.pk
            else _("on %(name)s's device")
            % {"name": turn.made_by.display_name if turn.made_by else _("a partner")}
        )
    return TurnView(
        seq=turn.seq,
        is_event=turn.kind == Turn.Kind.EVENT,
        is_mine=is_mine,
        is_coaching=turn.kind == Turn.Kind.COACHING,
        is_facilitator=turn.actor_role == FACILITATOR,
        is_private=turn.visible_to_id is not None,
        private_for=private_for,
        actor_name=_("You") if is_mine else actor_name,
        role=turn.actor_role,
        title=title,
        phrase=phrase,
        text=turn.text,
        said=said,
        feelings=[language.feeling_label(code) for code in data.get("feelings") or []],
        items=list(data.get("items") or []),
        gift=data.get(protocol.GIFT) or "",
        rating=data.get("rating"),
        time=data.get("time") or "",
        created_at=turn.created_at,
        quotes_said=quotes_said,
        said_label=said_label,
        aloud=aloud,
        made_on=made_on,
        removed=bool(data.get("removed")),
        removed_note=(
            _("(erased after the retention period)")
            if data.get("removed") == "retention"
            else _("(removed by its author)")
        ),
        # The partners come with the session (turns_of): no query for their language.
        lang=turn.actor.language_code if turn.actor is not None else "",
    )


class TurnViews(Sequence[TurnView]):
    """The views of these turns for one person, built when first read (most renders only
    need the turns' HTML, which is usually rendered already)."""

    def __init__(self, turns: list[Turn], *, viewer: User):
        self._turns = turns
        self._viewer = viewer

    @functools.cached_property
    def _views(self) -> list[TurnView]:
        return [turn_view(t, viewer=self._viewer) for t in self._turns]

    def __len__(self) -> int:
        return len(self._turns)

    def __getitem__(self, index: Any) -> Any:
        return self._views[index]

    def __iter__(self) -> Iterator[TurnView]:
        return iter(self._views)


# --- transcripts: the dialogue's shape ------------------------------------------------------


@dataclass(frozen=True)
class Gift:
    """The request a receiver agreed to give, as one person reads it."""

    giver: str  # "You", or the giver's name
    to: str  # "you", or the sender's name
    text: str
    giver_is_viewer: bool = field(default=False, compare=False)
    to_is_viewer: bool = field(default=False, compare=False)

    @property
    def line(self) -> str:
        """e.g. "Sam agreed to give Alex" / "You agreed to give Sam"."""
        if self.giver_is_viewer:
            return _("You agreed to give %(to)s") % {"to": self.to}
        if self.to_is_viewer:
            return _("%(giver)s agreed to give you") % {"giver": self.giver}
        return _("%(giver)s agreed to give %(to)s") % {"giver": self.giver, "to": self.to}


@dataclass
class Section:
    """One part of a transcript: the appointment, one round, or the closing (the protocol's
    phases). Empty parts are never made."""

    phase: protocol.Phase
    round: int  # 0 outside the rounds
    title: str
    sender: str = ""  # rounds: who was sending and who receiving, as the viewer reads it
    receiver: str = ""
    turns: list[TurnView] = field(default_factory=list)
    gift: Gift | None = None  # the last gift agreed in this round

    @property
    def is_round(self) -> bool:
        return self.phase is protocol.Phase.ROUND


def _is_viewer(session: DialogueSession, slot: str, viewer: User) -> bool:
    person = session.partner_in(slot)
    return person is not None and person.pk == viewer.pk


def _name_for(session: DialogueSession, slot: str, viewer: User, *, subject: bool) -> str:
    person = session.partner_in(slot)
    if person is None:
        return _("A former partner") if subject else _("a former partner")
    if person.pk == viewer.pk:
        return _("You") if subject else _("you")
    return person.display_name


def transcript_sections(
    *, session: DialogueSession, viewer: User, turns: list[Turn]
) -> list[Section]:
    """The turns this person may see, grouped the way the protocol shapes a dialogue: the
    appointment, each round (who was sending, who receiving, the gift agreed), the closing.
    The same for every kind, for partners and therapists alike."""
    state = session.protocol_state
    sections: list[Section] = []
    for turn in turns:
        phase = protocol.phase_of(session.kind, turn.step)
        number = turn.round if phase is protocol.Phase.ROUND else 0
        if not sections or (sections[-1].phase, sections[-1].round) != (phase, number):
            section = Section(
                phase=phase,
                round=number,
                title=protocol.PHASE_TITLES[phase].format(round=number),
            )
            if number:
                sender = protocol.sender_in_round(state, number)
                receiver = protocol.other_slot(sender)
                section.sender = _name_for(session, sender, viewer, subject=True)
                section.receiver = _name_for(session, receiver, viewer, subject=True)
            sections.append(section)
        view = turn_view(turn, viewer=viewer)
        sections[-1].turns.append(view)
        if view.gift and not view.removed:
            sender = protocol.sender_in_round(state, turn.round)
            sections[-1].gift = Gift(
                giver=view.actor_name,
                to=_name_for(session, sender, viewer, subject=False),
                text=view.gift,
                giver_is_viewer=view.is_mine,
                to_is_viewer=_is_viewer(session, sender, viewer),
            )
    return sections


def transcript_of(*, session: DialogueSession, viewer: User, turns: list[Turn]) -> dict:
    """What a transcript page adds to the dialogue's context: its sections, and the gifts
    agreed (shown first: they are what the couple takes away)."""
    sections = transcript_sections(session=session, viewer=viewer, turns=turns)
    return {"sections": sections, "gifts": [s.gift for s in sections if s.gift is not None]}


# --- the current step, as one person sees it ---------------------------------------------


@dataclass(frozen=True)
class MoveForm(protocol.MoveWords):
    """One move's form: the move's words in the viewer's language (plain values a template
    reads as they are) and the form's one-time token."""

    token: str = ""

    @classmethod
    def of(cls, move: protocol.MoveWords) -> MoveForm:
        return cls(**vars(move), token=secrets.token_urlsafe(16))


@dataclass
class Panel:
    """What the move panel shows this person now."""

    session: DialogueSession
    step: protocol.StepWords
    status: str
    at: int
    is_my_turn: bool
    my_role: str
    forms: list[MoveForm]
    waiting: str
    paused_by_name: str = ""
    paused_by_me: bool = False
    requests: list[str] = field(default_factory=list)
    closed: bool = False
    # During a time-out: who has said they're ready to go on.
    i_am_ready: bool = False
    partner_is_ready: bool = False
    partner_name: str = ""
    # Before the dialogue begins (appointment): the start gate, if it is closed.
    # `not_ready_mine` is the viewer's own state; about the partner, only one neutral line.
    not_ready_mine: str = ""
    partner_not_ready: bool = False
    # Said aloud (the protocol's State.aloud): words are said; writing them is optional.
    aloud: bool = False
    # Together on one device: this person's device takes both partners' turns (`together`),
    # or the partner's does (`together_elsewhere`); `for_partner`: the forms shown are the
    # partner's move, made here; `acting_name`: whose move it is, by name.
    together: bool = False
    together_elsewhere: bool = False
    for_partner: bool = False
    acting_name: str = ""
    sender_name: str = ""  # together on one device: who sends this round, by name
    # The partner's standing permission to take their turns on this device (shown as an
    # offer only when it stands).
    together_allowed: bool = False
    # A facilitated session's waiting room: not let in by the therapist yet (`partner_held`).
    held: bool = False
    # Read once when the panel is made, so the template asks nothing more.
    your_move: bool = False  # it is their move, and the dialogue isn't in a time-out
    before_start: bool = False  # the appointment is still being made
    is_scheduled: bool = False  # an appointment for later is made: it opens by itself
    may_cancel: bool = False  # they may cancel it (not a session the therapist booked)
    may_pause: bool = False

    @property
    def paused_seconds(self) -> int:
        since = self.session.paused_at
        if since is None or self.status != DialogueSession.Status.PAUSED:
            return 0
        return max(0, int((clock.now() - since).total_seconds()))

    @property
    def paused_for(self) -> str:
        minutes, seconds = divmod(self.paused_seconds, 60)
        return f"{minutes}:{seconds:02d}"

    @property
    def seconds_left(self) -> int:
        return seconds_until(self.session.scheduled_for)

    @property
    def has_text(self) -> bool:
        return any(f.text for f in self.forms)

    @property
    def your_move_said(self) -> str:
        """What a screen reader hears after the partner's step, when it is now yours."""
        return _("It's your move: %(step)s") % {"step": _sentence(self.step.title)}

    @property
    def key(self) -> str:
        """Changes exactly when the panel must be re-rendered for this person."""
        moves = ",".join(f.name for f in self.forms)
        ready = f"{int(self.i_am_ready)}{int(self.partner_is_ready)}"
        gate = f"{self.not_ready_mine}{int(self.partner_not_ready)}"
        at = self.session.scheduled_for
        when = at.timestamp() if at is not None and self.is_scheduled else ""
        mode = f"{int(self.aloud)}{int(self.together)}{int(self.together_elsewhere)}"
        mode += f"{int(self.for_partner)}{int(self.together_allowed)}"
        mode += f"{int(self.held)}"
        return f"{self.status}:{self.at}:{moves}:{int(self.closed)}:{ready}:{gate}:{when}:{mode}"


def seconds_until(moment: datetime | None) -> int:
    """Whole seconds from our clock's now until this moment (0 once it has come)."""
    if moment is None:
        return 0
    # Rounded up: "0" only once it has come (a page at zero asks for the opening).
    return max(0, math.ceil((moment - clock.now()).total_seconds()))


def round_requests(session: DialogueSession) -> list[str]:
    """The requests made last in the session's current round (what a gift is chosen from).

    Found by move name, not by the turn's data: that is encrypted and can't be searched."""
    latest = (
        session.turns.filter(
            round=session.round, kind=Turn.Kind.MOVE, move__in=protocol.REQUEST_MOVES
        )
        .order_by("-seq")
        .first()
    )
    items = latest.data.get("items") if latest else None
    return [str(item) for item in items] if isinstance(items, list) else []


def together_allowed(*, session: DialogueSession, granted_by: User | None) -> bool:
    """Whether this partner's permission for the other to take their turns on one device
    stands."""
    if granted_by is None:
        return False
    return device_sharing_allowed(couple_id=session.couple_id, granted_by_id=granted_by.pk)


def panel_for(*, session: DialogueSession, viewer: User, slot: str | None = None) -> Panel:
    """The move panel for one partner. `slot`: theirs, when the caller knows it already."""
    state = session.protocol_state
    slot = slot or session.slot_of(viewer)
    other_slot = "b" if slot == "a" else "a"
    other = session.partner_in(other_slot)
    other_name = other.display_name if other else _("Your partner")
    seat = protocol.seat_of(state, slot, partner_name=other_name)
    live = session.is_live
    held = bool(slot) and partner_held(session=session, user_pk=viewer.pk)
    moves = seat.moves if live and slot and not held else ()
    not_ready_mine, partner_not_ready = "", False
    if slot and seat.before_start and session.status in DialogueSession.WAITING:
        # Nothing has begun yet: the partners' panels depend on their safety gate.
        gate = safety.start_gate(user=viewer, couple=session.couple, partner=other)
        if not gate.open:
            # Only moves that don't begin the dialogue (e.g. offering a later time) stay.
            moves = tuple(m for m in moves if not m.starts_dialogue)
            not_ready_mine = "" if gate.mine == "ready" else gate.mine
            partner_not_ready = not gate.partner_ready
    # Together on one device (said aloud): this device also makes the partner's moves.
    aloud = state.aloud
    mine = bool(slot) and session.shared_device_id == viewer.pk
    together = aloud and mine and live
    together_elsewhere = aloud and live and session.shared_device_id is not None and not mine
    for_partner = False
    if together and not moves and slot and not held:
        moves = seat.partner_moves
        for_partner = bool(moves)
    allowed = False
    if aloud and live and slot and not together and not together_elsewhere:
        allowed = together_allowed(session=session, granted_by=other)
    forms = [MoveForm.of(m) for m in moves]
    requests = round_requests(session) if any(f.choice for f in forms) else []
    ready_slots = set(session.ready_to_resume or [])
    gate_closed = bool(not_ready_mine or partner_not_ready)
    paused = session.status == DialogueSession.Status.PAUSED
    return Panel(
        session=session,
        step=seat.step,
        status=session.status,
        at=session.step_seq,
        is_my_turn=bool(forms),
        my_role=seat.role_label,
        forms=forms,
        waiting="" if paused or forms or gate_closed else seat.waiting,
        paused_by_name=(
            (_("you") if session.paused_by_id == viewer.pk else session.paused_by.display_name)
            if session.paused_by
            else ""
        ),
        requests=requests,
        closed=seat.closed,
        i_am_ready=slot in ready_slots,
        partner_is_ready=other_slot in ready_slots,
        partner_name=other_name,
        paused_by_me=session.paused_by_id is not None and session.paused_by_id == viewer.pk,
        not_ready_mine=not_ready_mine,
        partner_not_ready=partner_not_ready,
        aloud=aloud,
        together=together,
        together_elsewhere=together_elsewhere,
        for_partner=for_partner,
        acting_name=other_name if for_partner else viewer.display_name,
        sender_name=(viewer.display_name if seat.is_sender else other_name) if slot else "",
        together_allowed=allowed,
        held=held,
        your_move=bool(forms) and session.status == DialogueSession.Status.ACTIVE,
        before_start=seat.before_start,
        is_scheduled=seat.scheduled and session.status in DialogueSession.WAITING,
        may_cancel=seat.scheduled and live and not session.is_facilitated,
        may_pause=seat.step.pausable,
    )


@dataclass
class Console:
    """The step machine's state, as a facilitating therapist sees it."""

    session: DialogueSession
    step: protocol.StepWords
    round: int
    status: str
    sender_name: str
    receiver_name: str
    acting: str  # who may act now, e.g. "Sam (receiver)"
    rewind_targets: list[tuple[str, str]]  # (step name, label: place, title and who acts)
    partners: list[tuple[str, str]]  # (slot, name) for choosing a private audience
    aloud: bool = False  # said aloud (and maybe together on one partner's device)
    shared_device_name: str = ""  # together on one device: whose (a partner, loaded already)

    @property
    def seconds_left(self) -> int:
        return seconds_until(self.session.scheduled_for) if self.session.waits_for_time else 0

    @property
    def key(self) -> str:
        targets = ",".join(name for name, _ in self.rewind_targets)
        at = self.session.scheduled_for
        when = at.timestamp() if at is not None and self.session.waits_for_time else ""
        mode = f"{int(self.aloud)}{self.session.shared_device_id or ''}"
        return (
            f"console:{self.status}:{self.session.step_seq}:{self.step.name}:{targets}:{when}:"
            f"{mode}"
        )


def console_for(*, session: DialogueSession) -> Console:
    state = session.protocol_state
    names = {
        slot: (session.partner_in(slot).display_name if session.partner_in(slot) else slot)
        for slot in protocol.SLOTS
    }
    acting = [
        _("%(name)s (%(role)s)")
        % {"name": names[slot], "role": protocol.role_label(protocol.role_of(state, slot))}
        for slot in protocol.SLOTS
        if slot in protocol.whose_turn(state)
    ]
    targets = protocol.rewind_choices(state) if session.is_live else ()

    def who(choice: protocol.RewindChoice) -> str:
        slot = state.sender if choice.actor is protocol.Actor.SENDER else state.receiver
        return f"{names[slot]}, {protocol.role_label(protocol.role_of(state, slot))}"

    step = protocol.words_of(state.step)
    assert step is not None  # the state's own step
    return Console(
        session=session,
        step=step,
        round=state.round,
        status=session.status,
        sender_name=names[state.sender],
        receiver_name=names[state.receiver],
        acting=_(" or ").join(acting) if acting else _("Nobody"),
        rewind_targets=[
            (choice.step, f"{choice.place}. {choice.title} ({who(choice)})") for choice in targets
        ],
        partners=[(slot, names[slot]) for slot in protocol.SLOTS],
        aloud=state.aloud,
        shared_device_name=names.get(session.slot_of_pk(session.shared_device_id) or "", ""),
    )


class DialogueUrls(dict[str, str]):
    """A dialogue's form addresses for its page and pushes (`{{ urls.move }}`), each reversed
    once per dialogue and process: reversing them in every rendered panel cost a tenth of a
    step's rendering. A dict, so a template reads one without calling our code."""

    NAMES = {
        "move": "dialogues:move",
        "pause": "dialogues:pause",
        "resume": "dialogues:resume",
        "cancel": "dialogues:cancel",
        "end": "dialogues:end",
        "aloud": "dialogues:aloud",
        "together": "dialogues:together",
        "transcript": "dialogues:transcript",
        "my_mirrors": "dialogues:my_mirrors",
        "console_rewind": "therapists:rewind",
        "console_pause": "therapists:pause",
        "console_resume": "therapists:resume",
        "console_end": "therapists:end",
    }

    def __init__(self, public_id: str):
        super().__init__()
        self.public_id = public_id

    def __missing__(self, key: str) -> str:
        url = self[key] = reverse(self.NAMES[key], args=[self.public_id])
        return url


@functools.lru_cache(maxsize=4096)
def dialogue_urls(public_id: str) -> DialogueUrls:
    return DialogueUrls(public_id)


def dialogue_context(
    *, session: DialogueSession, viewer: User, turns: list[Turn], role: str = PARTNER
) -> dict:
    """Everything the dialogue page and its partials need, for one person in one role.

    `shown_turns` are the turns themselves: the transcript renders each through the turn HTML
    kept in memory (dialogues/turn_html.py). `turns` are their views, built only if a partial
    reads them (the screen reader's line for what is new)."""
    views = TurnViews(turns, viewer=viewer)
    # The session's facts its partials test, read once for the whole render.
    facts = {
        "is_live": session.is_live,
        "is_planned": session.is_planned,
        "waits_for_time": session.waits_for_time,
        "is_facilitated": session.is_facilitated,
    }
    if role == FACILITATOR:
        console = console_for(session=session)
        return {
            "session": session,
            "viewer": viewer,
            **facts,
            "viewer_role": FACILITATOR,
            "partner": None,
            "turns": views,
            "shown_turns": turns,
            "console": console,
            "panel_key": console.key,
            "urls": dialogue_urls(session.public_id),
            "kind_info": protocol.kind_info(session.kind),
            "max_text": protocol.MAX_TEXT,
            "now": clock.now(),
        }
    slot = session.slot_of(viewer)
    other = session.partner_in("b" if slot == "a" else "a")
    panel = panel_for(session=session, viewer=viewer)
    return {
        "session": session,
        "viewer": viewer,
        **facts,
        "viewer_role": PARTNER,
        "partner": other,
        "turns": views,
        "shown_turns": turns,
        "panel": panel,
        "panel_key": panel.key,
        "urls": dialogue_urls(session.public_id),
        "kind_info": protocol.kind_info(session.kind),
        "feelings": language.FEELING_GROUPS,
        "appointment_choices": APPOINTMENT_CHOICES,
        "max_text": protocol.MAX_TEXT,
        "max_requests": range(protocol.MAX_REQUESTS),
        "ratings": range(protocol.MIN_RATING, protocol.MAX_RATING + 1),
        "now": clock.now(),
        "halt_choices": safety.HALT,
        "intensity_choices": safety.INTENSITY,
    }


def page_context(*, session: DialogueSession, viewer: User) -> dict:
    """The whole dialogue page for a partner: its transcript, panel and their kept mirrors."""
    turns = turns_of(session=session, viewer=viewer)
    context = dialogue_context(session=session, viewer=viewer, turns=turns)
    context["my_mirrors"] = mirrors_mine(session=session, viewer=viewer)
    return context


# --- home page -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PastDialogue:
    session: DialogueSession
    gifts: list[Gift]


def _with_gifts(sessions: list[DialogueSession], *, viewer: User) -> list[PastDialogue]:
    """Each past dialogue with the gifts agreed in it (the last one of each round), in one
    query for them all. Turns are encrypted: gifts are found by their move."""
    if not sessions:
        return []
    by_pk = {s.pk: s for s in sessions}
    latest: dict[tuple[int, int], Turn] = {}
    for turn in (
        Turn.objects.filter(
            session__in=list(by_pk), kind=Turn.Kind.MOVE, move__in=protocol.GIFT_MOVES
        )
        .only("session", "seq", "round", "actor", "data")
        .order_by("seq")
    ):
        if (turn.data or {}).get(protocol.GIFT) and not turn.data.get("removed"):
            latest[(turn.session_id, turn.round)] = turn
    gifts: dict[int, list[Gift]] = {}
    for (session_pk, number), turn in sorted(latest.items()):
        session = by_pk[session_pk]
        state = session.protocol_state
        giver = session.slot_of_pk(turn.actor_id)
        sender = protocol.sender_in_round(state, number)
        gifts.setdefault(session_pk, []).append(
            Gift(
                giver=_name_for(session, giver, viewer, subject=True) if giver else _("Someone"),
                to=_name_for(session, sender, viewer, subject=False),
                text=str(turn.data[protocol.GIFT]),
                giver_is_viewer=turn.actor_id == viewer.pk,
                to_is_viewer=_is_viewer(session, sender, viewer),
            )
        )
    return [PastDialogue(session=s, gifts=gifts.get(s.pk, [])) for s in sessions]


def home_dialogues(*, user: User, couple: Couple | None) -> dict:
    """The live dialogue (if any) and past ones this person took part in."""
    if not user.is_authenticated or user.is_therapist or user.is_staff:
        return {}
    sessions = list(
        DialogueSession.objects.filter(Q(partner_a=user) | Q(partner_b=user))
        .select_related("partner_a", "partner_b")
        .order_by("-created_at")[:50]
    )
    live = next((s for s in sessions if s.is_live and couple and s.couple_id == couple.pk), None)
    past = _with_gifts([s for s in sessions if s is not live and not s.is_planned], viewer=user)
    gate = None
    if couple is not None and live is None:
        partner = partner_of(user=user, couple=couple)
        if partner is not None:
            gate = safety.start_gate(user=user, couple=couple, partner=partner)
    return {
        "start_gate": gate,
        "live_dialogue": live,
        "live_is_waiting_for_me": bool(
            live and user.pk == live.partner_b_id and live.step == protocol.APPOINTMENT
        ),
        "live_is_scheduled": bool(live and protocol.is_scheduled(live.protocol_state)),
        "live_seconds_left": seconds_until(live.scheduled_for) if live else 0,
        "booked_sessions": [
            (s, seconds_until(s.scheduled_for))
            for s in (booked_sessions_of(couple_id=couple.pk) if couple else [])
        ],
        "past_dialogues": past,
        "dialogue_kinds": [(k.value, info) for k, info in protocol.KINDS.items()],
    }


def dialogue_kind_suggested(*, couple: Couple) -> protocol.Kind:
    """The kind the start page suggests: the warm-up until the couple has completed a
    dialogue together, then the Intentional Dialogue."""
    completed = couple.dialogue_sessions.filter(status=DialogueSession.Status.COMPLETED)
    return protocol.USUAL_KIND if completed.exists() else protocol.FIRST_TIME_KIND


def scheduled_dialogues_of(*, user: User) -> list[DialogueSession]:
    """This person's dialogues waiting for an appointed time (their calendar feed): their
    own appointments and booked sessions, and, for a therapist, the sessions they booked with
    couples they may still facilitate."""
    waiting = DialogueSession.objects.filter(
        status__in=DialogueSession.WAITING, step=protocol.SCHEDULED, scheduled_for__isnull=False
    ).select_related("partner_a", "partner_b", "scheduled_by")
    if getattr(user, "is_therapist", False):
        sessions = [
            s
            for s in waiting.filter(scheduled_by=user)
            if may_facilitate(therapist=user, couple_id=s.couple_id)
        ]
    else:
        sessions = list(waiting.filter(Q(partner_a=user) | Q(partner_b=user)))
    return sorted(sessions, key=lambda s: (s.scheduled_for, s.pk))


def scheduled_dialogue_for(*, public_id: str, user: User) -> DialogueSession | None:
    """The dialogue for this person's "Add to calendar" file, while it waits for its time:
    one of its partners, or, for a session a therapist booked, a therapist who may facilitate
    the couple now (as the feed: a couple's own appointment is theirs alone). None otherwise,
    whatever the reason (not theirs, not scheduled, live, ended, cancelled)."""
    session = dialogue_for(public_id=public_id, user=user)
    if session is None and getattr(user, "is_therapist", False):
        session = dialogue_for_facilitator(public_id=public_id, user=user)
        if session is not None and not session.is_facilitated:
            return None
    if session is None or not session.waits_for_time or session.scheduled_for is None:
        return None
    return session


def booked_sessions_of(*, couple_id: int) -> list[DialogueSession]:
    """The couple's facilitated sessions booked for later, soonest first."""
    return list(
        DialogueSession.objects.filter(
            couple_id=couple_id, status=DialogueSession.Status.PLANNED, scheduled_for__isnull=False
        )
        .select_related("partner_a", "partner_b", "scheduled_by")
        .order_by("scheduled_for", "pk")
    )


def next_scheduled_of(*, couple_id: int) -> DialogueSession | None:
    """The couple's next dialogue waiting for its time: an appointment or a booked session."""
    return (
        DialogueSession.objects.filter(
            couple_id=couple_id,
            status__in=DialogueSession.WAITING,
            step=protocol.SCHEDULED,
            scheduled_for__isnull=False,
        )
        .select_related("scheduled_by")
        .order_by("scheduled_for", "pk")
        .first()
    )


# --- "your data" export --------------------------------------------------------------------


def dialogues_export(*, user: User) -> list[dict]:
    """Every dialogue this person took part in, whole, as this person sees it on the page:
    both partners' words, and a therapist's coaching meant for both or for this person only
    (never one meant only for the other partner)."""
    sessions = (
        DialogueSession.objects.filter(Q(partner_a=user) | Q(partner_b=user))
        .select_related("couple", "partner_a", "partner_b")
        .order_by("created_at", "pk")
    )
    exported = []
    for session in sessions:
        slot = session.slot_of(user)
        partner = session.partner_in("b" if slot == "a" else "a")
        exported.append(
            {
                "id": session.public_id,
                "couple": session.couple.public_id,
                "kind": session.kind,
                "topic": session.title,  # a booked session's, in the language asked for
                "status": session.status,
                "started_by_you": slot == "a",
                "partner": partner.display_name if partner else None,
                "created_at": session.created_at.isoformat(),
                "ended_at": session.ended_at.isoformat() if session.ended_at else None,
                "turns": [
                    {
                        "seq": turn.seq,
                        "kind": turn.kind,
                        "round": turn.round,
                        "step": turn.step,
                        "move": turn.move,
                        "by": "you"
                        if turn.actor_id == user.pk
                        else (turn.actor.display_name if turn.actor else None),
                        "role": turn.actor_role,
                        # A therapist's private word is in the export of the one it was for.
                        "to": "you" if turn.visible_to_id == user.pk else "both",
                        "text": turn.text,
                        "data": turn.data,
                        # Said aloud: no words were written for it (none are made up here).
                        "said_aloud": bool((turn.data or {}).get("aloud")),
                        "made_on_device_of": (
                            None
                            if turn.made_by_id is None
                            else "you"
                            if turn.made_by_id == user.pk
                            else (turn.made_by.display_name if turn.made_by else None)
                        ),
                        "created_at": turn.created_at.isoformat(),
                    }
                    for turn in turns_of(session=session, viewer=user)
                ],
            }
        )
    return exported


# --- mirror feedback (dialogues/language.py computes it) --------------------------------------


class _MirrorTrail:
    """Walks a dialogue's turns in order, keeping what the sender said that the receiver's
    next mirror (the sender's words since their last "you got it") and summary (all the
    sender's words of the round) reflect."""

    def __init__(self) -> None:
        self.round = 0
        self.since_heard: list[str] = []
        self.in_round: list[str] = []

    def said_for(self, move: str) -> str:
        summing_up = move in protocol.SUMMING_UP_MOVES
        return " ".join(self.in_round if summing_up else self.since_heard)

    def feed(self, turn: Turn) -> None:
        if turn.round != self.round:
            self.round, self.since_heard, self.in_round = turn.round, [], []
        if turn.actor_role != protocol.Actor.SENDER:
            return
        if turn.move in protocol.HEARD_MOVES:
            self.since_heard = []
        elif turn.text:
            self.since_heard.append(turn.text)
            self.in_round.append(turn.text)


def _reflected_turns(session: DialogueSession, viewer: User) -> list[Turn]:
    """The session's moves since it began that this person may see, in order."""
    return list(
        Turn.objects.filter(session=session, kind=Turn.Kind.MOVE)
        .filter(Q(visible_to__isnull=True) | Q(visible_to=viewer))
        .exclude(step__in=protocol.BEFORE_START)
        .only("round", "actor_role", "move", "text", "data", "actor_id", "seq")
        .order_by("seq")
    )


def writing_step(
    *, session: DialogueSession, viewer: User, move: str, for_partner: bool = False
) -> protocol.Step | None:
    """The step at which this person writes the text of `move` now, or None when it isn't
    theirs to write now (another step, the other partner's move, a time-out, the end).
    `for_partner`: the other partner's move on this person's device, together on one device
    while that partner's permission stands (as services._for_partner allows it)."""
    if move not in protocol.moves_asking("text") or not session.is_live:
        return None
    if session.status != DialogueSession.Status.ACTIVE:
        return None
    slot = session.slot_of(viewer)
    state = session.protocol_state
    if slot is not None and for_partner:
        other = session.partner_in(protocol.other_slot(slot))
        if (
            other is None
            or session.shared_device_id != viewer.pk
            or not state.aloud
            or not device_sharing_allowed(couple_id=session.couple_id, granted_by_id=other.pk)
        ):
            return None
        slot = protocol.other_slot(slot)
    if slot is None or move not in {m.name for m in protocol.allowed_moves(state, slot)}:
        return None
    return protocol.step_of(state)


def mirror_said(
    *, session: DialogueSession, viewer: User, move: str, for_partner: bool = False
) -> str | None:
    """What the sender said that this receiver's mirror or summary (`move`) now reflects,
    or None when it isn't theirs to write now (only the receiver at that step ever gets it)."""
    if move not in protocol.REFLECTING_MOVES:
        return None
    if writing_step(session=session, viewer=viewer, move=move, for_partner=for_partner) is None:
        return None
    trail = _MirrorTrail()
    for turn in _reflected_turns(session, viewer):
        trail.feed(turn)
    return trail.said_for(move)


@dataclass(frozen=True)
class MirrorsKept:
    """How complete one person's mirrors and summaries in one dialogue were."""

    shares: list[int]  # each written one's share of what the sender said, in percent, in order
    aloud: int = 0  # said aloud with nothing written: no figure is made up for them

    @property
    def kept(self) -> int | None:
        """The mean share, in percent (None: nothing written to measure)."""
        return round(sum(self.shares) / len(self.shares)) if self.shares else None

    @property
    def any(self) -> bool:
        return bool(self.shares) or bool(self.aloud)


def mirrors_summary(*, session: DialogueSession, person: User) -> MirrorsKept:
    """How much of what the sender said each of this person's mirrors and summaries in the
    session kept (computed again from the turns, in the active language, never stored). The
    one place the progress page and the finished dialogue's own page take it from."""
    trail = _MirrorTrail()
    kept: list[int] = []
    aloud = 0
    for turn in _reflected_turns(session, person):
        if turn.actor_id == person.pk and turn.move in protocol.REFLECTING_MOVES:
            if turn.text:
                feedback = language.mirror_feedback(
                    said=trail.said_for(turn.move), mirror=turn.text
                )
                if feedback.kept is not None:
                    kept.append(feedback.kept)
            elif (turn.data or {}).get("aloud"):
                aloud += 1
        trail.feed(turn)
    return MirrorsKept(kept, aloud)


def mirrors_kept(*, session: DialogueSession, person: User) -> list[int]:
    """How much of what the sender said each of this person's written mirrors and summaries
    in the session kept, in percent."""
    return mirrors_summary(session=session, person=person).shares


def mirrors_mine(*, session: DialogueSession, viewer: User) -> MirrorsKept | None:
    """The viewer's own mirrors of a finished dialogue, for their eyes only (None: still going,
    or not one of its partners)."""
    if session.is_live or session.is_planned or session.slot_of(viewer) is None:
        return None
    return mirrors_summary(session=session, person=viewer)
