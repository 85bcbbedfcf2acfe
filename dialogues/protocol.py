"""The Imago dialogue protocol: steps, who may act, and the transitions.

Plain Python (of Django only its translation): services call it, the UI reads it, tests
drive it. Every text a person reads (titles, explanations, stems, labels, phrases, errors) is
translated in the language active when it is read; names of kinds, steps and moves are
stored and compared, and never translated.

A dialogue's progress is a small immutable :class:`State`. :func:`apply` checks a
partner's move against the current :class:`Step` and returns the next state;
it never mutates anything. Every error is a :class:`ProtocolError` whose
``message`` is a calm sentence that can be shown to the person as it is.

Slots: ``"a"`` is the partner who started the dialogue, ``"b"`` the other one.
In each round one slot is the sender (``State.sender``), the other the receiver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, cast

from django.utils.formats import number_format
from django.utils.functional import Promise
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _gettext_lazy
from django.utils.translation import pgettext_lazy as _pgettext_lazy

from dialogues.language import feeling_code

MAX_TEXT = 2000  # characters, per text field
MAX_REQUESTS = 3
MIN_RATING = 1
MAX_RATING = 5
SLOTS = ("a", "b")  # 'a' = the partner who started the dialogue, 'b' = the other partner

FIELD_NAMES = ("text", "feelings", "items", "choice", "rating", "time")
GIFT = "gift"  # a saved gift turn's data: the text of the request chosen (from "choice")

# Shared step names.
APPOINTMENT = "appointment"
SCHEDULED = "scheduled"
CLOSING = "closing"
CLOSING_PROPOSED = "closing_proposed"  # one partner suggested closing; the other answers
FINISHED = "finished"
START = "start"  # the step the first turn (the appointment request) is recorded at

# --------------------------------------------------------------------------- texts


# The texts are defined once, at import, as lazy translations, and are read as plain strings
# in the language active then (`_ReadsTranslated`, `_Texts`). Typed as str for that reason.
def _(message: str) -> str:
    return cast(str, _gettext_lazy(message))


def pgettext_lazy(context: str, message: str) -> str:
    return cast(str, _pgettext_lazy(context, message))


def _read(value: Any) -> Any:
    """A text as the active language says it: a lazily translated string (or a tuple of
    them) becomes a plain str when read, so every consumer gets real strings."""
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, tuple) and any(isinstance(v, Promise) for v in value):
        return tuple(str(v) if isinstance(v, Promise) else v for v in value)
    return value


class _ReadsTranslated:
    """Gives the texts named in ``_TEXTS`` in the language active when they are read (they
    are defined once, at import, as lazy translations)."""

    _TEXTS: frozenset[str] = frozenset()

    def __getattribute__(self, name: str) -> Any:
        value = object.__getattribute__(self, name)
        if name in type(self)._TEXTS:
            return _read(value)
        return value


class _Texts(Mapping[str, str]):
    """A mapping of lazily translated texts whose values are read in the active language."""

    def __init__(self, texts: Mapping[str, Any]):
        self._texts = dict(texts)

    def __getitem__(self, key: str) -> str:
        return str(self._texts[key])

    def __iter__(self) -> Iterator[str]:
        return iter(self._texts)

    def __len__(self) -> int:
        return len(self._texts)

    def raw(self, key: str) -> Any:
        """The text as defined (not yet translated), for comparing which text it is."""
        return self._texts[key]


# Session events: turns that are not protocol moves. What each says in a transcript.
ASK = "ask"
PAUSE = "pause"
READY = "ready"
RESUME = "resume"
END = "end"
REWIND = "rewind"
COACH = "coach"
CANCEL = "cancel"  # either partner cancels an appointment made for later
OPEN = "open"  # the appointed time came: the dialogue opens by itself
BEGIN_EARLY = "begin_early"  # someone opened it by hand before the appointed time
BEGIN = "begin_now"  # someone opened it by hand once the time had come (it waited for them)
OPENINGS = (OPEN, BEGIN_EARLY, BEGIN)  # a waiting dialogue opened, by itself or by hand
BOOK = "book"  # a linked therapist booked a facilitated session for a set time
MOVE_TIME = "move_time"  # the therapist moved the booked session to another time
ALOUD_ON = "aloud_on"  # from now on the couple say their steps aloud (text optional)
ALOUD_OFF = "aloud_off"  # from now on they write them again
TOGETHER_ON = "together_on"  # one partner's device takes both partners' turns (said aloud)
TOGETHER_OFF = "together_off"  # back to a device each (or the other partner withdrew consent)
EVENT_PHRASES = _Texts(
    {
        ASK: _("asked to talk"),
        PAUSE: _("called a time-out"),
        READY: _("is ready to go on"),
        RESUME: _("resumed the dialogue"),
        END: _("ended the dialogue"),
        REWIND: _("sent the dialogue back to"),
        COACH: _("coached"),
        CANCEL: _("cancelled the appointment"),
        OPEN: _("The appointed time came; the dialogue began"),
        BEGIN_EARLY: _("began the dialogue before the appointed time"),
        BEGIN: _("began the dialogue"),
        BOOK: _("scheduled this facilitated session"),
        MOVE_TIME: _("moved the session to another time"),
        ALOUD_ON: _("chose to say the dialogue aloud"),
        ALOUD_OFF: _("chose to write the dialogue"),
        TOGETHER_ON: _("began taking both partners' turns on their device"),
        TOGETHER_OFF: _("ended taking turns together on one device"),
    }
)
# The same, said of the person reading ("You called a time-out"): languages that conjugate
# for "you" differ here (English "You are ready to go on").
MY_EVENT_PHRASES = _Texts(
    {
        # Translators: what *you* did, after "You" in a transcript ("You mirrored: …"): conjugated
        # for tú in Spanish ("reflejaste"); the same phrase without this context is said of
        # someone else ("Sam reflejó").
        ASK: pgettext_lazy("what you did", "asked to talk"),
        PAUSE: pgettext_lazy("what you did", "called a time-out"),
        READY: pgettext_lazy("what you did", "are ready to go on"),
        RESUME: pgettext_lazy("what you did", "resumed the dialogue"),
        END: pgettext_lazy("what you did", "ended the dialogue"),
        REWIND: pgettext_lazy("what you did", "sent the dialogue back to"),
        COACH: pgettext_lazy("what you did", "coached"),
        CANCEL: pgettext_lazy("what you did", "cancelled the appointment"),
        OPEN: pgettext_lazy("what you did", "The appointed time came; the dialogue began"),
        BEGIN_EARLY: pgettext_lazy("what you did", "began the dialogue before the appointed time"),
        BEGIN: pgettext_lazy("what you did", "began the dialogue"),
        BOOK: pgettext_lazy("what you did", "scheduled this facilitated session"),
        MOVE_TIME: pgettext_lazy("what you did", "moved the session to another time"),
        ALOUD_ON: pgettext_lazy("what you did", "chose to say the dialogue aloud"),
        ALOUD_OFF: pgettext_lazy("what you did", "chose to write the dialogue"),
        TOGETHER_ON: pgettext_lazy(
            "what you did", "began taking both partners' turns on your device"
        ),
        TOGETHER_OFF: pgettext_lazy("what you did", "ended taking turns together on one device"),
    }
)

# Special transition targets (internal).
_FIRST = "@first"  # the kind's first content step
_NEXT_ROUND = "@next_round"  # swap roles, round + 1, back to the round's first step
_NEXT_ROUND_OR_FINISH = "@next_round_or_finish"  # appreciation: two rounds, then done
_CLOSE = "@close"  # mark this slot closed; finished once every slot has closed


class Kind(StrEnum):
    INTENTIONAL = "intentional"
    APPRECIATION = "appreciation"
    BEHAVIOR_CHANGE = "behavior_change"
    WARM_UP = "warm_up"
    PARENT_CHILD = "parent_child"
    EXITS = "exits"


class Actor(StrEnum):
    SENDER = "sender"
    RECEIVER = "receiver"
    EITHER = "either"  # either partner may make the move (first one wins)
    EACH = "each"  # every partner must act once (closing)
    OTHER = "other"  # the partner who did not make the proposal (State.proposer) answers it
    NOBODY = "nobody"  # the terminal step: the dialogue is finished


class Guard(StrEnum):
    """When a move is offered, beyond whose turn it is (see `available_moves`)."""

    ALWAYS = "always"
    ALL_HEARD = "all_heard"  # every partner has been heard as the sender (`heard`)
    NOT_ALL_HEARD = "not_all_heard"  # someone has not been heard yet


class Phase(StrEnum):
    """The parts a transcript is divided into (`phase_of`)."""

    OPENING = "opening"  # making the appointment
    ROUND = "round"  # one round: one partner sending, the other receiving
    ENDING = "ending"  # closing, once the rounds are over


# --------------------------------------------------------------------------- errors


class ProtocolError(Exception):
    """A move that cannot be made. ``message`` is safe and kind to show to people."""

    default_message = _("That can't be done right now.")

    def __init__(self, message: str | None = None):
        # Translated now, in the language of the person who made the move.
        self.message = str(message or self.default_message)
        super().__init__(self.message)


class NotYourTurn(ProtocolError):
    default_message = _("It's not your turn yet.")


class NoSuchMove(ProtocolError):
    default_message = _("This dialogue has moved on — the page has been refreshed.")


class InvalidInput(ProtocolError):
    default_message = _("Something in that answer needs another look.")


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Field(_ReadsTranslated):
    """What a move asks the person for."""

    _TEXTS = frozenset({"label"})

    name: str  # one of FIELD_NAMES
    label: str  # form label, e.g. "What you heard"
    required: bool = True


@dataclass(frozen=True)
class Move(_ReadsTranslated):
    _TEXTS = frozenset({"label", "refusal", "stems", "send_label", "aloud_label"})

    name: str  # e.g. "mirror", "got_it", "not_quite"
    label: str  # button text, e.g. "Yes, you got it"
    fields: tuple[Field, ...] = ()
    to: str = ""  # next step name, or one of the internal "@..." targets
    when: Guard = Guard.ALWAYS  # offered only while this holds
    # Shown when the move is asked for while its guard doesn't hold (a stale or forged form).
    refusal: str = ""
    # Sentence stems that fit this move's own text box (a correction's, on a check step).
    stems: tuple[str, ...] = ()
    # A correction: its box opens only once its button is pressed, and a second button sends
    # it, so one click never tells a partner the opposite of what was meant.
    opens_first: bool = False
    send_label: str = ""  # the button that sends an opened box (the label if empty)
    # Said aloud: the button that records the move once it has been said (see `said_with`).
    aloud_label: str = ""

    @property
    def phrase(self) -> str:
        """What a transcript says the person did, e.g. "mirrored" (in the active language)."""
        return MOVE_PHRASES[self.name]

    @property
    def my_phrase(self) -> str:
        """The same, said of the person reading it: "You mirrored" (conjugated for "you" in
        languages that need it)."""
        return MY_MOVE_PHRASES[self.name]

    @property
    def quotes_label(self) -> bool:
        """Whether saying what the person did quotes the button ("said: Yes, you got it"):
        moves that are only an answer. Others say it all ("switched roles"). The same in
        every language (it asks which phrase it is, not what it reads)."""
        phrase = MOVE_PHRASES.raw(self.name)
        return any(phrase is quoting for quoting in QUOTING_PHRASES)

    @property
    def sends_with(self) -> str:
        return self.send_label or self.label

    @property
    def is_spoken(self) -> bool:
        """Whether what this move asks for is words (a text or requests the person must
        give): said aloud, they are said instead of written, and the text is optional."""
        return any(f.name in _SPOKEN_FIELDS and f.required for f in self.fields)

    @property
    def said_with(self) -> str:
        """The button that records this move in a said-aloud dialogue: "I've said it" for a
        move whose words were said; an answer's own button otherwise ("Yes, you got it")."""
        if self.aloud_label:
            return self.aloud_label
        return str(ALOUD_SAID) if self.is_spoken else self.sends_with

    @property
    def starts_dialogue(self) -> bool:
        """Whether this move begins the dialogue itself (both partners must be ready)."""
        return self.to == _FIRST

    def field(self, name: str) -> Field | None:
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass(frozen=True)
class Step(_ReadsTranslated):
    _TEXTS = frozenset({"title", "explanation", "stems", "waiting", "aloud_waiting"})

    name: str
    title: str
    actor: Actor
    explanation: str  # one plain line for the person whose move it is
    # Stems for the step's one text box. A step offering a choice has none: each move's
    # box carries the stems that fit it (Move.stems), so none lands in the wrong box.
    stems: tuple[str, ...]
    waiting: str  # what the other person sees; {name} = the actor's display name
    moves: tuple[Move, ...]
    hint: str | None = None  # language-hint family: "send", "mirror", "empathy" or None
    feelings: bool = False  # True where a feeling-word picker is shown
    pausable: bool = True  # whether a time-out may be called during this step
    sender_heard: bool = False  # reaching this step means the round's sender has been heard
    aloud_waiting: str = ""  # the waiting line when said aloud, where `waiting` says "writing"

    def move(self, name: str) -> Move | None:
        for m in self.moves:
            if m.name == name:
                return m
        return None

    @property
    def is_spoken(self) -> bool:
        """Whether this step's words are said (some move of it asks for them)."""
        return any(m.is_spoken for m in self.moves)

    @property
    def is_check(self) -> bool:
        """A check: one plain answer ("Yes, you got it") or a correction that opens first."""
        return any(m.opens_first for m in self.moves)

    def stems_for(self, move: Move) -> tuple[str, ...]:
        """The stems offered in this move's text box (none if it has no text box)."""
        if move.field("text") is None:
            return ()
        return move.stems or self.stems


@dataclass(frozen=True)
class KindInfo(_ReadsTranslated):
    # The title stays a lazy translation: model and form choices are built from it at import.
    _TEXTS = frozenset({"description", "suggested_for"})

    kind: Kind
    title: str
    description: str
    steps: tuple[str, ...]  # ordered step names of this kind
    first_step: str
    round_steps: tuple[str, ...] = ()  # the steps one round goes through, in order
    max_rounds: int | None = None  # None = as many rounds as the couple likes
    # The start page's suggestion: when this kind is the one to choose (one plain phrase).
    suggested_for: str = ""
    # Best done with a linked therapist present (the start page says so; a therapist may
    # start it for the couple from their page).
    with_therapist: bool = False
    # The childhood reflections the partners share can be opened beside it.
    reflection: bool = False

    @property
    def round_start(self) -> str:
        return self.round_steps[0]


# --------------------------------------------------------------------------- fields

_CLOSE_NEEDS_BOTH = _(
    "Closing before you have both been heard needs you both to agree: suggest closing, "
    "and your partner decides."
)


# Said aloud, these are said rather than written: optional (`field_required`).
_SPOKEN_FIELDS = frozenset({"text", "items"})
# The button that records a step said aloud (Move.said_with).
ALOUD_SAID = _("I've said it")
# Translators: how a transcript marks a step said aloud, not written: "Mara mirrored, aloud".
# %(did)s is what was done ("mirrored").
_ALOUD_PHRASE = _("%(did)s, aloud")


def aloud_phrase(did: str) -> str:
    """What a transcript says of a step said aloud ("mirrored, aloud"), in the active
    language; no words are made up for it."""
    return str(_ALOUD_PHRASE) % {"did": did}


def _text(label: str, required: bool = True) -> Field:
    return Field("text", label, required)


_TIME = Field("time", _("A time that works for me (within 24 hours)"))
_FEELINGS = Field(
    "feelings", _("Feeling words: tick one to add it to your sentence"), required=False
)
_ITEMS = Field("items", _("Your requests (up to three)"))
_CHOICE = Field("choice", _("The request I'll give as a gift"))
_RATING = Field("rating", _("How heard did you feel? (1 = not really, 5 = completely)"))


def _not_quite(back_to: str) -> Move:
    """A check's correction: what was missed, then the receiver mirrors again."""
    return Move(
        "not_quite",
        _("Not quite"),
        (_text(_("What they missed")),),
        to=back_to,
        stems=(_("What I meant was …"), _("The part I'd like you to hear again is …")),
        opens_first=True,
        send_label=_("Send, so they can mirror again"),
    )


def _said_mirrored_checked(
    *,
    prefix: str,
    title: str,
    explanation: str,
    stems: tuple[str, ...],
    waiting: str,
    move: str,
    label: str,
    then: str,
    mirror_stems: tuple[str, ...] = (_("If I got it, you said …"), _("Did I get it?")),
    mirror_explanation: str = _("Say back what you heard, without adding, judging or answering."),
    hint: str | None = None,
    box: str = "",
    aloud_waiting: str = "",
) -> tuple[Step, ...]:
    """Three steps: the sender says one piece (with its stems), the receiver mirrors it, the
    sender checks ("Did I get it?"); a correction goes back to the mirror, a yes to ``then``.
    ``box``: the label of the sender's text box (the first stem if empty)."""
    return (
        Step(
            name=prefix,
            title=title,
            actor=Actor.SENDER,
            explanation=explanation,
            stems=stems,
            waiting=waiting,
            moves=(Move(move, label, (_text(box or stems[0]),), to=f"{prefix}_mirror"),),
            hint=hint,
            aloud_waiting=aloud_waiting,
        ),
        Step(
            name=f"{prefix}_mirror",
            title=_("Mirroring"),
            actor=Actor.RECEIVER,
            explanation=mirror_explanation,
            stems=mirror_stems,
            # Translators: the waiting lines ("{name} is …") tell the other person what is
            # happening; {name} is the acting partner's name (or "your partner").
            waiting=_("{name} is mirroring what you said."),
            moves=(
                Move(
                    "mirror", _("Mirror back"), (_text(_("What you heard")),), to=f"{prefix}_check"
                ),
            ),
            hint="mirror",
        ),
        Step(
            name=f"{prefix}_check",
            title=_("Did they get it?"),
            actor=Actor.SENDER,
            explanation=_(
                "Let your partner know if they heard you, or gently say what they missed."
            ),
            stems=(),
            waiting=_("{name} is checking whether you got it."),
            moves=(Move("got_it", _("Yes, you got it"), to=then), _not_quite(f"{prefix}_mirror")),
        ),
    )


def _validated_empathized(*, prefix: str, explanation: str, then: str) -> tuple[Step, ...]:
    """The receiver says what makes sense and names the feelings they imagine; the sender
    confirms the feelings or adds one. Then ``then``."""
    return (
        Step(
            name=f"{prefix}_validation",
            title=_("Validation"),
            actor=Actor.RECEIVER,
            explanation=explanation,
            stems=(_("You make sense, and what makes sense is …"),),
            waiting=_("{name} is saying what makes sense to them."),
            moves=(
                Move(
                    "validate",
                    _("Share validation"),
                    (_text(_("What makes sense to you")),),
                    to=f"{prefix}_empathy",
                ),
            ),
            hint="mirror",
        ),
        Step(
            name=f"{prefix}_empathy",
            title=_("Empathy"),
            actor=Actor.RECEIVER,
            explanation=_("Name the feelings you imagine your partner has — single feeling words."),
            stems=(_("I imagine you might be feeling …"), _("Did I get that?")),
            waiting=_("{name} is imagining how you feel."),
            moves=(
                Move(
                    "empathize",
                    _("Share empathy"),
                    (_text(_("The feelings you imagine")), _FEELINGS),
                    to=f"{prefix}_empathy_check",
                ),
            ),
            hint="empathy",
            feelings=True,
        ),
        Step(
            name=f"{prefix}_empathy_check",
            title=_("Did they get your feelings?"),
            actor=Actor.SENDER,
            explanation=_("Let your partner know if they named your feelings, or add one."),
            stems=(),
            waiting=_("{name} is checking the feelings you named."),
            moves=(
                Move("confirm", _("Yes, that's it"), to=then),
                Move(
                    "add",
                    _("Add a feeling"),
                    (_text(_("The feelings you'd add")), _FEELINGS),
                    to=f"{prefix}_empathy",
                    stems=(_("I also feel …"),),
                    opens_first=True,
                    send_label=_("Send the feelings"),
                ),
            ),
            feelings=True,
        ),
    )


# The Parent-Child Dialogue's questions, asked by the receiver in the caregiver's role, in
# order: (step prefix, the question, what the sender's answer box stems with).
PARENT_CHILD_QUESTIONS = (
    (
        "pc_life",
        _("I am your … What was it like to live with me?"),
        (_("Living with you was …"), _("As a child I felt …")),
    ),
    (
        "pc_worst",
        _("What was the worst of it?"),
        (_("The worst of it was …"), _("What hurt most was …")),
    ),
    (
        "pc_need_then",
        _("What did you need most from me that you didn't get?"),
        (_("What I needed most from you was …"), _("I wish you had …")),
    ),
    (
        "pc_need_now",
        _("What do you need most from me now, as your partner?"),
        (_("What I need most from you now is …"), _("It would heal something if you …")),
    ),
)


# A question's title when it differs from the question (the first one names the role first).
_PARENT_CHILD_TITLES = {"pc_life": _("What was it like to live with me?")}


def _parent_child_steps() -> tuple[Step, ...]:
    """The sender names the caregiver; the receiver, in that role, asks each question; each
    answer (from the sender's childhood self) is mirrored and checked; then the receiver steps
    out of the role, validates and empathises, and they may switch."""
    steps: list[Step] = [
        Step(
            name="pc_caregiver",
            title=_("Who will your partner be?"),
            actor=Actor.SENDER,
            explanation=(
                _(
                    "Choose the caregiver your partner will speak as (a parent, or whoever raised "
                    "you). You will answer as the child you were."
                )
            ),
            stems=(_("Please be my …"),),
            waiting=_("{name} is choosing which caregiver you will speak as."),
            moves=(
                Move(
                    "name_caregiver",
                    _("Ask my partner to be them"),
                    (_text(_("Whom your partner will be")),),
                    to="pc_life_ask",
                ),
            ),
        ),
    ]
    for index, (prefix, question, answer_stems) in enumerate(PARENT_CHILD_QUESTIONS):
        last = index == len(PARENT_CHILD_QUESTIONS) - 1
        then = "pc_validation" if last else f"{PARENT_CHILD_QUESTIONS[index + 1][0]}_ask"
        if index == 0:
            ask = Move(
                "ask_as_caregiver",
                pgettext_lazy("dialogue move", "Ask"),
                (_text(_("In the caregiver's role")),),
                to=prefix,
            )
            ask_explanation = _(
                "Step gently into the role your partner asked for: say who you are, and ask."
            )
        else:
            ask = Move("ask_caregiver_question", question, to=prefix)
            ask_explanation = _("Still in the caregiver's role, kindly ask what comes next.")
        steps.append(
            Step(
                name=f"{prefix}_ask",
                title=_PARENT_CHILD_TITLES.get(prefix, question),
                actor=Actor.RECEIVER,
                explanation=ask_explanation,
                stems=(question,) if index == 0 else (),
                waiting=_("{name} is asking, in the caregiver's role."),
                moves=(ask,),
            )
        )
        steps.extend(
            _said_mirrored_checked(
                prefix=prefix,
                title=_PARENT_CHILD_TITLES.get(prefix, question),
                explanation=_("Answer as the child you were: say what comes, in a few sentences."),
                stems=answer_stems,
                waiting=_("{name} is answering as the child they were."),
                move="answer_as_child",
                label=pgettext_lazy("dialogue move", "Answer"),
                box=_("Your answer, as the child you were"),
                then=then,
                mirror_stems=(_("If I got it, you said …"), _("Did I get it?")),
                mirror_explanation=(
                    _(
                        "Still in the role, say back what the child told you, without defending "
                        "or explaining."
                    )
                ),
            )
        )
    steps.extend(
        _validated_empathized(
            prefix="pc",
            explanation=(
                _(
                    "Step out of the role and speak as yourself, the partner: say what makes sense "
                    "about what that child lived through."
                )
            ),
            then="switch",
        )
    )
    return tuple(steps)


# The warm-up's stems, sent one after another, each mirrored and checked:
# (step prefix, the stem, the move, its transcript phrase).
WARM_UP_STEMS = (
    ("warmup_appreciate", _("Something I appreciate about you is …"), "appreciate"),
    ("warmup_memory", _("A memory I treasure is …"), "share_memory"),
    ("warmup_admire", _("Something I admire in you is …"), "share_admiration"),
)


# Each warm-up step's title: its stem, with the ellipsis closed up.
_WARM_UP_TITLES = {
    "warmup_appreciate": _("Something I appreciate about you is…"),
    "warmup_memory": _("A memory I treasure is…"),
    "warmup_admire": _("Something I admire in you is…"),
}


def _warm_up_steps() -> tuple[Step, ...]:
    steps: list[Step] = []
    for index, (prefix, stem, move) in enumerate(WARM_UP_STEMS):
        last = index == len(WARM_UP_STEMS) - 1
        steps.extend(
            _said_mirrored_checked(
                prefix=prefix,
                title=_WARM_UP_TITLES[prefix],
                explanation=_(
                    "Finish the sentence with something warm and true about your partner."
                ),
                stems=(stem,),
                waiting=_("{name} is writing something warm for you."),
                aloud_waiting=_("{name} is telling you something warm. Listen."),
                move=move,
                label=pgettext_lazy("dialogue move", "Send"),
                then=_NEXT_ROUND_OR_FINISH if last else WARM_UP_STEMS[index + 1][0],
                mirror_stems=(_("If I got it, you said …"), _("Did I get it?")),
                mirror_explanation=_("Say back what you heard, and let it land."),
            )
        )
    return tuple(steps)


def _exits_steps() -> tuple[Step, ...]:
    return (
        *_said_mirrored_checked(
            prefix="exit_share",
            title=_("An exit I'm closing"),
            explanation=(
                _(
                    "Tell your partner about one exit you are closing or reducing: what you do, "
                    "what you avoid by it, and what you will do instead."
                )
            ),
            stems=(
                _("An exit I'd like to close is …"),
                _("What I avoid by it is …"),
                _("What I'll do instead is …"),
            ),
            waiting=_("{name} is telling you about an exit they're closing."),
            move="share_exit",
            label=pgettext_lazy("dialogue move", "Send"),
            box=_("The exit you're closing, and what you avoid by it"),
            then="exit_validation",
            hint="send",
        ),
        *_validated_empathized(
            prefix="exit",
            explanation=(
                _(
                    "Say what makes sense about that exit and about closing it — "
                    "you don't have to agree."
                )
            ),
            then="switch",
        ),
    )


# --------------------------------------------------------------------------- steps

_STEP_LIST: tuple[Step, ...] = (
    # ---- shared opening -------------------------------------------------------
    Step(
        name=APPOINTMENT,
        title=_("Is now a good time?"),
        actor=Actor.RECEIVER,
        explanation=_("Your partner would like to talk; say whether now works, or offer a time."),
        stems=(_("I'm available now."), _("Now isn't good for me; could we talk at …?")),
        waiting=_("{name} is looking at your request to talk."),
        moves=(
            Move("accept_now", _("I'm available now"), to=_FIRST),
            Move("propose_time", _("Offer another time"), (_TIME,), to=SCHEDULED),
        ),
        pausable=False,  # nothing has begun yet: there is nothing to pause
    ),
    Step(
        name=SCHEDULED,
        title=_("Appointment made"),
        actor=Actor.EITHER,
        explanation=(
            _(
                "The dialogue opens by itself at the time you agreed. If you are both here "
                "sooner, either of you can begin now; either can also offer another time."
            )
        ),
        stems=(),
        waiting=_("{name} can begin once you are both ready."),
        moves=(
            Move("begin", _("We're both ready now"), to=_FIRST),
            Move("reschedule", _("Offer another time"), (_TIME,), to=SCHEDULED),
        ),
        pausable=False,
    ),
    # ---- intentional dialogue ---------------------------------------------------
    Step(
        name="send",
        title=_("Sending"),
        actor=Actor.SENDER,
        explanation=_("Share one short piece about yourself, starting with “I”."),
        stems=(_("When …, I feel …"), _("What I'd like is …")),
        waiting=_("{name} is writing what they'd like you to hear."),
        aloud_waiting=_("{name} is saying what they'd like you to hear. Listen."),
        moves=(
            Move(
                "send",
                pgettext_lazy("dialogue move", "Send"),
                (_text(_("What I'd like you to hear")),),
                to="mirror",
            ),
        ),
        hint="send",
    ),
    Step(
        name="mirror",
        title=_("Mirroring"),
        actor=Actor.RECEIVER,
        explanation=_("Say back what you heard, without adding, judging or answering."),
        stems=(_("If I got it, you said …"), _("Did I get it?")),
        waiting=_("{name} is mirroring what you said."),
        moves=(Move("mirror", _("Mirror back"), (_text(_("What you heard")),), to="check"),),
        hint="mirror",
    ),
    Step(
        name="check",
        title=_("Did they get it?"),
        actor=Actor.SENDER,
        explanation=_("Let your partner know if they heard you, or gently say what they missed."),
        stems=(),
        waiting=_("{name} is checking whether you got it."),
        moves=(Move("got_it", _("Yes, you got it"), to="ask_more"), _not_quite("mirror")),
    ),
    Step(
        name="ask_more",
        title=_("Is there more?"),
        actor=Actor.RECEIVER,
        explanation=_("Invite your partner to say more, with curiosity."),
        stems=(_("Is there more about that?"),),
        waiting=_("{name} is about to ask whether there is more."),
        moves=(Move("ask_more", _("Is there more?"), to="more"),),
    ),
    Step(
        name="more",
        title=_("Is there more?"),
        actor=Actor.SENDER,
        explanation=_("Say whether there is more you'd like your partner to hear."),
        stems=(_("Yes, there's more."), _("That's all for now.")),
        waiting=_("{name} is deciding whether there is more."),
        moves=(
            Move("there_is_more", _("Yes, there's more"), to="send"),
            Move("thats_all", _("That's all"), to="summary"),
        ),
    ),
    Step(
        name="summary",
        title=_("Summary"),
        actor=Actor.RECEIVER,
        explanation=_("Sum up everything you heard, in your own words."),
        stems=(_("Let me see if I got all of that …"), _("Did I get it all?")),
        waiting=_("{name} is summing up what you shared."),
        moves=(
            Move("summary", _("Share summary"), (_text(_("Your summary")),), to="summary_check"),
        ),
        hint="mirror",
    ),
    Step(
        name="summary_check",
        title=_("Did they get it all?"),
        actor=Actor.SENDER,
        explanation=_("Let your partner know if the summary is complete, or add what's missing."),
        stems=(),
        waiting=_("{name} is checking your summary."),
        moves=(
            Move("got_it_all", _("Yes, you got it all"), to="validation"),
            Move(
                "add",
                _("Something's missing"),
                (_text(_("What's missing")),),
                to="summary",
                stems=(_("There's one more thing: …"), _("I'd also like you to hear …")),
                opens_first=True,
                send_label=_("Send what's missing"),
            ),
        ),
    ),
    Step(
        name="validation",
        title=_("Validation"),
        actor=Actor.RECEIVER,
        explanation=_("Say what makes sense from your partner's side — you don't have to agree."),
        stems=(_("You make sense, and what makes sense is …"),),
        waiting=_("{name} is saying what makes sense to them."),
        moves=(
            Move(
                "validate",
                _("Share validation"),
                (_text(_("What makes sense to you")),),
                to="validation_ack",
            ),
        ),
        hint="mirror",
    ),
    Step(
        name="validation_ack",
        title=_("Feeling understood"),
        actor=Actor.SENDER,
        explanation=_("Let your partner know their validation reached you."),
        stems=(_("Thank you, that helps."),),
        waiting=_("{name} is reading your validation."),
        moves=(
            Move(
                "acknowledge",
                _("Thank you"),
                (_text(_("Anything you'd like to say (optional)"), required=False),),
                to="empathy",
            ),
        ),
    ),
    Step(
        name="empathy",
        title=_("Empathy"),
        actor=Actor.RECEIVER,
        explanation=_("Name the feelings you imagine your partner has — single feeling words."),
        stems=(_("I imagine you might be feeling …"), _("Did I get that?")),
        waiting=_("{name} is imagining how you feel."),
        moves=(
            Move(
                "empathize",
                _("Share empathy"),
                (_text(_("The feelings you imagine")), _FEELINGS),
                to="empathy_check",
            ),
        ),
        hint="empathy",
        feelings=True,
    ),
    Step(
        name="empathy_check",
        title=_("Did they get your feelings?"),
        actor=Actor.SENDER,
        explanation=_("Let your partner know if they named your feelings, or add one."),
        stems=(),
        waiting=_("{name} is checking the feelings you named."),
        moves=(
            Move("confirm", _("Yes, that's it"), to="requests"),
            Move(
                "add",
                _("Add a feeling"),
                (_text(_("The feelings you'd add")), _FEELINGS),
                to="empathy",
                stems=(_("I also feel …"),),
                opens_first=True,
                send_label=_("Send the feelings"),
            ),
        ),
        feelings=True,
    ),
    Step(
        name="requests",
        title=_("Requests (optional)"),
        actor=Actor.SENDER,
        explanation=_(
            "If you like, turn the frustration into up to three positive, doable requests."
        ),
        stems=(_("Would you be willing to …?"),),
        waiting=_("{name} is thinking about requests."),
        moves=(
            Move("make_requests", _("Make requests"), (_ITEMS,), to="gift"),
            Move("skip_requests", _("No requests this time"), to="switch"),
        ),
    ),
    Step(
        name="gift",
        title=_("A gift"),
        actor=Actor.RECEIVER,
        explanation=_("Choose one request you are willing to give as a gift."),
        stems=(_("I'd like to give you …"),),
        waiting=_("{name} is choosing a request to give as a gift."),
        moves=(
            Move(
                "give",
                _("Give this gift"),
                (_CHOICE, _text(_("Anything you'd like to say (optional)"), required=False)),
                to="switch",
            ),
        ),
    ),
    Step(
        name="switch",
        title=_("Switch or close"),
        actor=Actor.EITHER,
        explanation=(
            _(
                "Swap roles so the other partner can be heard, or close: closing before you have "
                "both been heard needs you both to agree."
            )
        ),
        stems=(),
        waiting=_("{name} can also choose what comes next."),
        moves=(
            Move("switch_roles", _("Switch roles"), to=_NEXT_ROUND),
            Move(
                "go_to_closing",
                _("Move to closing"),
                to=CLOSING,
                when=Guard.ALL_HEARD,
                refusal=_CLOSE_NEEDS_BOTH,
            ),
            Move(
                "propose_closing",
                _("Suggest closing"),
                to=CLOSING_PROPOSED,
                when=Guard.NOT_ALL_HEARD,
                refusal=_("You have both been heard: either of you can move on to closing."),
            ),
        ),
        sender_heard=True,
    ),
    Step(
        name=CLOSING_PROPOSED,
        title=_("Close now?"),
        actor=Actor.OTHER,
        explanation=(
            _(
                "Your partner suggests closing before you have both been heard. Close only if you "
                "both agree; otherwise switch roles."
            )
        ),
        stems=(),
        waiting=_("{name} is deciding whether to close now or switch roles first."),
        moves=(
            Move("switch_instead", _("Switch roles first"), to=_NEXT_ROUND),
            Move("agree_to_close", _("Yes, let's close"), to=CLOSING),
        ),
        sender_heard=True,
    ),
    Step(
        name=CLOSING,
        title=_("Closing"),
        actor=Actor.EACH,
        explanation=_("Share one appreciation, and say how heard you felt."),
        stems=(_("One thing I appreciate about you is …"),),
        waiting=_("{name} is writing their closing appreciation."),
        aloud_waiting=_("{name} is saying their closing appreciation. Listen."),
        moves=(
            Move(
                "close",
                _("Share and close"),
                (_text(_("One thing I appreciate about you is …")), _RATING),
                to=_CLOSE,
            ),
        ),
    ),
    # ---- appreciation dialogue ------------------------------------------------
    Step(
        name="appreciate",
        title=_("An appreciation"),
        actor=Actor.SENDER,
        explanation=_("Share one thing you appreciate about your partner."),
        stems=(_("One thing I appreciate about you is …"),),
        waiting=_("{name} is writing an appreciation for you."),
        aloud_waiting=_("{name} is telling you an appreciation. Listen."),
        moves=(
            Move(
                "appreciate",
                pgettext_lazy("dialogue move", "Send"),
                (_text(_("One thing I appreciate about you is …")),),
                to="appreciation_mirror",
            ),
        ),
    ),
    Step(
        name="appreciation_mirror",
        title=_("Mirroring"),
        actor=Actor.RECEIVER,
        explanation=_("Say back the appreciation you heard, and let it land."),
        stems=(_("If I got it, you appreciate …"), _("Did I get it?")),
        waiting=_("{name} is mirroring your appreciation."),
        moves=(
            Move(
                "mirror", _("Mirror back"), (_text(_("What you heard")),), to="appreciation_check"
            ),
        ),
        hint="mirror",
    ),
    Step(
        name="appreciation_check",
        title=_("Did they get it?"),
        actor=Actor.SENDER,
        explanation=_("Let your partner know if they heard you, or gently say what they missed."),
        stems=(),
        waiting=_("{name} is checking whether you got it."),
        moves=(
            Move("got_it", _("Yes, you got it"), to=_NEXT_ROUND_OR_FINISH),
            _not_quite("appreciation_mirror"),
        ),
    ),
    # ---- behavior change request dialogue -------------------------------------
    Step(
        name="change_requests",
        title=_("Requests"),
        actor=Actor.SENDER,
        explanation=_("Turn a frustration into up to three positive, specific, doable requests."),
        stems=(_("Would you be willing to …?"),),
        waiting=_("{name} is writing requests."),
        aloud_waiting=_("{name} is saying their requests. Listen."),
        moves=(Move("make_requests", _("Make requests"), (_ITEMS,), to="change_gift"),),
    ),
    Step(
        name="change_gift",
        title=_("A gift"),
        actor=Actor.RECEIVER,
        explanation=_("Choose one request you are willing to give as a gift."),
        stems=(_("I'd like to give you …"),),
        waiting=_("{name} is choosing a request to give as a gift."),
        moves=(
            Move(
                "give",
                _("Give this gift"),
                (_CHOICE, _text(_("Anything you'd like to say (optional)"), required=False)),
                to=FINISHED,
            ),
        ),
    ),
    # ---- warm-up, Parent-Child Dialogue, exits dialogue ---------------------------
    *_warm_up_steps(),
    *_parent_child_steps(),
    *_exits_steps(),
    # ---- terminal ----------------------------------------------------------------
    Step(
        name=FINISHED,
        title=_("Finished"),
        actor=Actor.NOBODY,
        explanation=_("This dialogue is complete. Thank you both."),
        stems=(),
        waiting=_("This dialogue is complete."),
        moves=(),
        pausable=False,
    ),
)

STEPS: dict[str, Step] = {s.name: s for s in _STEP_LIST}
assert len(STEPS) == len(_STEP_LIST), "step names must be unique"


def moves_asking(field_name: str) -> frozenset[str]:
    """Names of the moves whose form has this field, e.g. "items": the moves making requests.

    Saved turns are encrypted, so their data can't be searched in SQL: a turn that holds a
    field is found by its move (a plain column) instead."""
    return frozenset(
        m.name for s in _STEP_LIST for m in s.moves if any(f.name == field_name for f in m.fields)
    )


REQUEST_MOVES = moves_asking("items")  # their turns' data holds "items" (the requests)
GIFT_MOVES = moves_asking("choice")  # their turns' data holds GIFT (the request chosen)

# What a transcript says each move did ("Sam mirrored: …"). Moves that are only an answer
# ("Yes, you got it") are "said" (or "asked"), followed by the button's words.
# Translators: what a transcript says a person did before the words of the button they
# pressed: "Sam said: Yes, you got it".
_SAID = _("said")
# Translators: what a transcript says a person did before the question they asked: "Sam
# asked: Is there more?".
_ASKED = _("asked")
QUOTING_PHRASES = (_SAID, _ASKED)  # compared by identity, so in every language
# Translators: the phrases below follow a person's name in a transcript ("Sam mirrored: …").
MOVE_PHRASES = _Texts(
    {
        "accept_now": _("is available now"),
        "propose_time": _("offered another time"),
        "begin": _("began the dialogue"),
        "reschedule": _("offered another time"),
        "send": _("shared"),
        "mirror": _("mirrored"),
        "got_it": _SAID,
        "not_quite": _("said not quite"),
        "ask_more": _ASKED,
        "there_is_more": _SAID,
        "thats_all": _SAID,
        "summary": _("summed up"),
        "got_it_all": _SAID,
        "add": _("added"),
        "validate": _("validated"),
        "acknowledge": _("acknowledged"),
        "empathize": _("empathized"),
        "confirm": _SAID,
        "make_requests": _("made requests"),
        "skip_requests": _("made no requests this time"),
        "give": _("chose a gift"),
        "switch_roles": _("switched roles"),
        "go_to_closing": _("moved on to closing"),
        "propose_closing": _("suggested closing"),
        "switch_instead": _("asked to switch roles first"),
        "agree_to_close": _("agreed to close"),
        "close": _("closed with an appreciation"),
        "appreciate": _("shared an appreciation"),
        "share_memory": _("shared a memory they treasure"),
        "share_admiration": _("shared something they admire"),
        "name_caregiver": _("named the caregiver to speak as"),
        "ask_as_caregiver": _("asked, in the caregiver's role"),
        "ask_caregiver_question": _ASKED,
        "answer_as_child": _("answered as the child they were"),
        "share_exit": _("shared an exit they're closing"),
    }
)
# The same, said of the person reading ("You mirrored: …").
MY_MOVE_PHRASES = _Texts(
    {
        # Translators: what *you* did, after "You" in a transcript ("You mirrored: …"): conjugated
        # for tú in Spanish ("reflejaste"); the same phrase without this context is said of
        # someone else ("Sam reflejó").
        "accept_now": pgettext_lazy("what you did", "is available now"),
        "propose_time": pgettext_lazy("what you did", "offered another time"),
        "begin": pgettext_lazy("what you did", "began the dialogue"),
        "reschedule": pgettext_lazy("what you did", "offered another time"),
        "send": pgettext_lazy("what you did", "shared"),
        "mirror": pgettext_lazy("what you did", "mirrored"),
        "got_it": pgettext_lazy("what you did", "said"),
        "not_quite": pgettext_lazy("what you did", "said not quite"),
        "ask_more": pgettext_lazy("what you did", "asked"),
        "there_is_more": pgettext_lazy("what you did", "said"),
        "thats_all": pgettext_lazy("what you did", "said"),
        "summary": pgettext_lazy("what you did", "summed up"),
        "got_it_all": pgettext_lazy("what you did", "said"),
        "add": pgettext_lazy("what you did", "added"),
        "validate": pgettext_lazy("what you did", "validated"),
        "acknowledge": pgettext_lazy("what you did", "acknowledged"),
        "empathize": pgettext_lazy("what you did", "empathized"),
        "confirm": pgettext_lazy("what you did", "said"),
        "make_requests": pgettext_lazy("what you did", "made requests"),
        "skip_requests": pgettext_lazy("what you did", "made no requests this time"),
        "give": pgettext_lazy("what you did", "chose a gift"),
        "switch_roles": pgettext_lazy("what you did", "switched roles"),
        "go_to_closing": pgettext_lazy("what you did", "moved on to closing"),
        "propose_closing": pgettext_lazy("what you did", "suggested closing"),
        "switch_instead": pgettext_lazy("what you did", "asked to switch roles first"),
        "agree_to_close": pgettext_lazy("what you did", "agreed to close"),
        "close": pgettext_lazy("what you did", "closed with an appreciation"),
        "appreciate": pgettext_lazy("what you did", "shared an appreciation"),
        "share_memory": pgettext_lazy("what you did", "shared a memory they treasure"),
        "share_admiration": pgettext_lazy("what you did", "shared something they admire"),
        "name_caregiver": pgettext_lazy("what you did", "named the caregiver to speak as"),
        "ask_as_caregiver": pgettext_lazy("what you did", "asked, in the caregiver's role"),
        "ask_caregiver_question": pgettext_lazy("what you did", "asked"),
        "answer_as_child": pgettext_lazy("what you did", "answered as the child they were"),
        "share_exit": pgettext_lazy("what you did", "shared an exit they're closing"),
    }
)
STARTING_MOVES = frozenset(m.name for step in _STEP_LIST for m in step.moves if m.starts_dialogue)
BEFORE_START = frozenset({APPOINTMENT, SCHEDULED})  # the steps before the dialogue begins
# The receiver's moves that say back what the sender said (the page gives private feedback
# while they are written: dialogues/language.py), the one of them that sums up the whole
# round, and the sender's "you got it", after which the next mirror starts anew.
REFLECTING_MOVES = frozenset({"mirror", "summary"})
SUMMING_UP_MOVES = frozenset({"summary"})
HEARD_MOVES = frozenset({"got_it", "got_it_all"})


# --------------------------------------------------------------------------- in one language


@dataclass(frozen=True)
class FieldWords:
    name: str
    label: str
    required: bool


@dataclass(frozen=True)
class MoveWords:
    """A move as pages show it, every text read in one language: plain values a template
    reads without asking the protocol anything."""

    name: str
    label: str
    phrase: str
    my_phrase: str
    quotes_label: bool
    sends_with: str
    said_with: str
    starts_dialogue: bool
    opens_first: bool
    reflects: bool  # a mirror or summary (the page gives private feedback as it is written)
    stems: tuple[str, ...]  # the stems offered in its text box (none without one)
    fields: Mapping[str, FieldWords]
    # Each field it asks for by name (None where it asks none): attributes for templates.
    text: FieldWords | None = None
    feelings: FieldWords | None = None
    requests: FieldWords | None = None  # the "items" field
    choice: FieldWords | None = None
    rating: FieldWords | None = None
    time: FieldWords | None = None


@dataclass(frozen=True)
class StepWords:
    """A step and its moves as pages show them, in one language."""

    name: str
    title: str
    explanation: str
    hint: str | None
    stems: tuple[str, ...]
    is_check: bool
    pausable: bool
    moves: Mapping[str, MoveWords]


def _move_words(step: Step, move: Move) -> MoveWords:
    fields = {f.name: FieldWords(f.name, f.label, f.required) for f in move.fields}
    return MoveWords(
        name=move.name,
        label=move.label,
        phrase=move.phrase,
        my_phrase=move.my_phrase,
        quotes_label=move.quotes_label,
        sends_with=move.sends_with,
        said_with=move.said_with,
        starts_dialogue=move.starts_dialogue,
        opens_first=move.opens_first,
        reflects=move.name in REFLECTING_MOVES,
        stems=step.stems_for(move),
        fields=fields,
        text=fields.get("text"),
        feelings=fields.get("feelings"),
        requests=fields.get("items"),
        choice=fields.get("choice"),
        rating=fields.get("rating"),
        time=fields.get("time"),
    )


_WORDS: dict[tuple[str, str], StepWords] = {}


def words_of(step_name: str) -> StepWords | None:
    """The step of that name and its moves, their texts read in the active language (None:
    no such step). Made once per step and language: the texts never change while we run."""
    key = (step_name, get_language() or "")
    words = _WORDS.get(key)
    if words is None:
        step = STEPS.get(step_name)
        if step is None:
            return None
        words = _WORDS[key] = StepWords(
            name=step.name,
            title=step.title,
            explanation=step.explanation,
            hint=step.hint,
            stems=step.stems,
            is_check=step.is_check,
            pausable=step.pausable,
            moves={m.name: _move_words(step, m) for m in step.moves},
        )
    return words


_INTENTIONAL_ROUND = (
    "send",
    "mirror",
    "check",
    "ask_more",
    "more",
    "summary",
    "summary_check",
    "validation",
    "validation_ack",
    "empathy",
    "empathy_check",
    "requests",
    "gift",
    "switch",
    CLOSING_PROPOSED,
)
_APPRECIATION_ROUND = ("appreciate", "appreciation_mirror", "appreciation_check")
_CHANGE_ROUND = ("change_requests", "change_gift")
_SWITCH = ("switch", CLOSING_PROPOSED)  # swap roles or close, as after an intentional round
_WARM_UP_ROUND = tuple(s.name for s in _warm_up_steps())
_PARENT_CHILD_ROUND = (*(s.name for s in _parent_child_steps()), *_SWITCH)
_EXITS_ROUND = (*(s.name for s in _exits_steps()), *_SWITCH)

KINDS: dict[Kind, KindInfo] = {
    Kind.WARM_UP: KindInfo(
        kind=Kind.WARM_UP,
        title=_("Appreciation warm-up"),
        description=(
            _(
                "Three warm sentence stems each — something you appreciate, a memory you treasure, "
                "something you admire — each heard and mirrored back. A gentle way to begin."
            )
        ),
        steps=(APPOINTMENT, SCHEDULED, *_WARM_UP_ROUND, FINISHED),
        first_step=APPOINTMENT,
        round_steps=_WARM_UP_ROUND,
        max_rounds=2,
        suggested_for=_("your first time"),
    ),
    Kind.INTENTIONAL: KindInfo(
        kind=Kind.INTENTIONAL,
        title=_("Intentional Dialogue"),
        description=(
            _(
                "One of you shares, the other mirrors, validates and empathises; "
                "then you can swap roles."
            )
        ),
        steps=(APPOINTMENT, SCHEDULED, *_INTENTIONAL_ROUND, CLOSING, FINISHED),
        first_step=APPOINTMENT,
        round_steps=_INTENTIONAL_ROUND,
        suggested_for=_("a frustration you'd like to be heard about"),
    ),
    Kind.APPRECIATION: KindInfo(
        kind=Kind.APPRECIATION,
        title=_("Appreciation Dialogue"),
        description=_("Each of you shares one appreciation and hears it mirrored back."),
        steps=(APPOINTMENT, SCHEDULED, *_APPRECIATION_ROUND, FINISHED),
        first_step=APPOINTMENT,
        round_steps=_APPRECIATION_ROUND,
        max_rounds=2,
        suggested_for=_("a few quiet minutes of goodwill"),
    ),
    Kind.BEHAVIOR_CHANGE: KindInfo(
        kind=Kind.BEHAVIOR_CHANGE,
        title=_("Behavior Change Request"),
        description=(
            _(
                "Turn a frustration into up to three positive, doable requests; "
                "your partner chooses one to give as a gift."
            )
        ),
        steps=(APPOINTMENT, SCHEDULED, *_CHANGE_ROUND, FINISHED),
        first_step=APPOINTMENT,
        round_steps=_CHANGE_ROUND,
        max_rounds=1,
        suggested_for=_("a gift you'd like to ask for"),
    ),
    Kind.EXITS: KindInfo(
        kind=Kind.EXITS,
        title=_("Exits dialogue"),
        description=(
            _(
                "Tell your partner about one way you step out of the relationship (an exit) that "
                "you are closing; they mirror, validate and empathise."
            )
        ),
        steps=(APPOINTMENT, SCHEDULED, *_EXITS_ROUND, CLOSING, FINISHED),
        first_step=APPOINTMENT,
        round_steps=_EXITS_ROUND,
        suggested_for=_("an exit you've chosen to close"),
    ),
    Kind.PARENT_CHILD: KindInfo(
        kind=Kind.PARENT_CHILD,
        title=_("Parent-Child Dialogue"),
        description=(
            _(
                "You speak as the child you were; your partner, in your caregiver's role, "
                "gently asks what it was like and what you needed, mirrors each answer, then "
                "steps out of the role to validate and empathise."
            )
        ),
        steps=(APPOINTMENT, SCHEDULED, *_PARENT_CHILD_ROUND, CLOSING, FINISHED),
        first_step=APPOINTMENT,
        round_steps=_PARENT_CHILD_ROUND,
        suggested_for=_("a deep pattern, with your therapist present"),
        with_therapist=True,
        reflection=True,
    ),
}

# The kind the start page suggests: a gentle warm-up the first time, then the dialogue itself.
FIRST_TIME_KIND = Kind.WARM_UP
USUAL_KIND = Kind.INTENTIONAL

# Steps that are not part of a round's content and never rewind targets.
_NOT_REWINDABLE = frozenset({APPOINTMENT, SCHEDULED, CLOSING, FINISHED})
# Steps at or before which a rewind clears the round's requests.
_REQUEST_STEPS = {"requests": "gift", "change_requests": "change_gift"}

# --------------------------------------------------------------------------- state


def _other(slot: str) -> str:
    return SLOTS[1] if slot == SLOTS[0] else SLOTS[0]


@dataclass(frozen=True)
class State:
    kind: Kind
    step: str
    round: int = 1
    sender: str = "a"  # slot of the current round's sender
    closed: frozenset[str] = field(default_factory=frozenset)  # slots that have closed
    request_count: int = 0  # number of requests the sender made (for the gift choice)
    proposer: str = ""  # at a step answered by Actor.OTHER: the slot that made the proposal
    # Said aloud: the couple say their steps instead of writing them (`said_aloud`); the
    # protocol is the same, words optional (`field_required`).
    aloud: bool = False

    def __post_init__(self) -> None:
        try:
            kind = Kind(self.kind)
        except ValueError:
            raise ValueError(f"unknown dialogue kind: {self.kind!r}") from None
        object.__setattr__(self, "kind", kind)
        object.__setattr__(self, "closed", frozenset(self.closed))
        if self.step not in KINDS[kind].steps:
            raise ValueError(f"step {self.step!r} is not part of a {kind.value} dialogue")
        if isinstance(self.round, bool) or not isinstance(self.round, int) or self.round < 1:
            raise ValueError(f"round must be a positive integer, not {self.round!r}")
        if self.sender not in SLOTS:
            raise ValueError(f"sender must be one of {SLOTS}, not {self.sender!r}")
        if not self.closed <= frozenset(SLOTS):
            raise ValueError(f"closed must be a subset of {SLOTS}")
        rc = self.request_count
        if isinstance(rc, bool) or not isinstance(rc, int) or not 0 <= rc <= MAX_REQUESTS:
            raise ValueError(f"request_count must be 0..{MAX_REQUESTS}, not {rc!r}")
        if not isinstance(self.aloud, bool):
            raise ValueError(f"aloud must be True or False, not {self.aloud!r}")
        answering = STEPS[self.step].actor is Actor.OTHER
        if (self.proposer in SLOTS) != answering or (not answering and self.proposer != ""):
            raise ValueError(
                f"proposer must be one of {SLOTS} exactly at a step that answers a proposal, "
                f"not {self.proposer!r} at {self.step!r}"
            )

    @property
    def receiver(self) -> str:
        return _other(self.sender)

    @property
    def finished(self) -> bool:
        return self.step == FINISHED

    def to_dict(self) -> dict:
        return {
            "kind": self.kind.value,
            "step": self.step,
            "round": self.round,
            "sender": self.sender,
            "closed": sorted(self.closed),
            "request_count": self.request_count,
            "proposer": self.proposer,
            # Only when said aloud: a written dialogue's state reads as it always has.
            **({"aloud": True} if self.aloud else {}),
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> State:
        """Rebuild a state from :meth:`to_dict` output. Raises ValueError if invalid
        (`__post_init__` checks every value)."""
        try:
            return cls(
                kind=Kind(d["kind"]),
                step=d["step"],
                round=d.get("round", 1),
                sender=d.get("sender", SLOTS[0]),
                closed=frozenset(d.get("closed", ())),
                request_count=d.get("request_count", 0),
                proposer=d.get("proposer", ""),
                aloud=d.get("aloud", False),
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"not a dialogue state: {exc}") from None


# --------------------------------------------------------------------------- queries


def kind_info(kind: Kind | str) -> KindInfo:
    return KINDS[Kind(kind)]


def start(kind: Kind | str, *, aloud: bool = False) -> State:
    """The state right after the starter (slot "a") asked for the appointment. `aloud`: the
    couple chose "We'll say it aloud"."""
    kind = Kind(kind)
    return State(kind=kind, step=KINDS[kind].first_step, sender=SLOTS[0], aloud=aloud)


def said_aloud(state: State, aloud: bool) -> State:
    """The same dialogue, now said aloud (or written again): nothing else changes, so a form
    made for this step stays good. Not once it is finished."""
    if state.finished:
        raise NoSuchMove(gettext("This dialogue is complete — the page has been refreshed."))
    return replace(state, aloud=bool(aloud))


def field_required(state: State, f: Field) -> bool:
    """Whether this field must be filled now. Said aloud, words (a text, requests) are said
    rather than written, so they are optional; so is choosing among requests when none were
    written (the receiver says which one they give; also when the dialogue is written again
    after requests said aloud). Taps (a rating, a time) stay required."""
    if f.name == "choice" and state.request_count == 0:
        return False
    if state.aloud and f.name in _SPOKEN_FIELDS:
        return False
    return f.required


def is_said_aloud(state: State, move_name: str) -> bool:
    """Whether this move, made now, is recorded as said aloud (its words said, not written)."""
    move = step_of(state).move(move_name)
    return state.aloud and move is not None and move.is_spoken


def step_of(state: State) -> Step:
    return STEPS[state.step]


def other_slot(slot: str) -> str:
    """The other partner's slot."""
    return _other(slot)


def before_start(state: State) -> bool:
    """Whether the dialogue itself hasn't begun yet (the appointment is being made)."""
    return state.step in BEFORE_START


def starts_dialogue(state: State, move_name: str) -> bool:
    """Whether this move, now, begins the dialogue itself: both partners must be ready."""
    move = step_of(state).move(move_name)
    return move is not None and move.starts_dialogue and before_start(state)


def may_pause(state: State) -> bool:
    """Whether a time-out may be called now."""
    return step_of(state).pausable


def role_of(state: State, slot: str) -> str:
    """The role ("sender" or "receiver") of this slot in the current round."""
    if slot not in SLOTS:
        raise ValueError(f"unknown slot: {slot!r}")
    return "sender" if slot == state.sender else "receiver"


# What each role is called where a person reads it (the therapist's console: "Sam (receiver)").
# role_of's values are compared and stored; these are only shown.
ROLE_LABELS = _Texts(
    {
        # Translators: the partner who speaks in this round ("Sam (sender)").
        "sender": pgettext_lazy("dialogue role", "sender"),
        # Translators: the partner who listens and mirrors in this round ("Sam (receiver)").
        "receiver": pgettext_lazy("dialogue role", "receiver"),
    }
)


def role_label(role: str) -> str:
    """A role ("sender", "receiver") as the active language says it; anything else as it is."""
    return ROLE_LABELS.get(role, role)


def whose_turn(state: State) -> frozenset[str]:
    """The slots that may act now (empty when finished)."""
    actor = step_of(state).actor
    if actor is Actor.SENDER:
        return frozenset({state.sender})
    if actor is Actor.RECEIVER:
        return frozenset({state.receiver})
    if actor is Actor.EITHER:
        return frozenset(SLOTS)
    if actor is Actor.EACH:
        return frozenset(SLOTS) - state.closed
    if actor is Actor.OTHER:
        return frozenset({_other(state.proposer)})
    return frozenset()


def heard(state: State) -> frozenset[str]:
    """The partners who have been heard as the sender: the senders of the rounds before this
    one, and this round's sender once the round has reached a step after the hearing
    (`Step.sender_heard`: switch or close). Rounds alternate senders."""
    slots = set()
    if state.round >= 2:
        slots.add(state.receiver)  # the last round's sender
    if state.round >= 3 or step_of(state).sender_heard:
        slots.add(state.sender)
    return frozenset(slots)


def all_heard(state: State) -> bool:
    """Whether every partner has been heard (the ground rule before closing)."""
    return heard(state) == frozenset(SLOTS)


_GUARDS: dict[Guard, Callable[[State], bool]] = {
    Guard.ALWAYS: lambda state: True,
    Guard.ALL_HEARD: all_heard,
    Guard.NOT_ALL_HEARD: lambda state: not all_heard(state),
}


def available_moves(state: State) -> tuple[Move, ...]:
    """The moves the current step offers now, whoever may make them."""
    return tuple(m for m in step_of(state).moves if _GUARDS[m.when](state))


def allowed_moves(state: State, slot: str) -> tuple[Move, ...]:
    """The moves this slot may make now (empty if it is not their turn)."""
    if slot not in whose_turn(state):
        return ()
    return available_moves(state)


def sender_in_round(state: State, round_number: int) -> str:
    """The slot that was (or is) the sender in that round of this dialogue (rounds alternate)."""
    if round_number < 1:
        raise ValueError(f"round must be a positive integer, not {round_number!r}")
    return state.sender if (state.round - round_number) % 2 == 0 else state.receiver


# What a transcript calls each part ({round}: the round's number).
PHASE_TITLES = _Texts(
    {
        Phase.OPENING: _("Making the appointment"),
        # Translators: a transcript's heading; {round} is the round's number.
        Phase.ROUND: _("Round {round}"),
        Phase.ENDING: _("Closing"),
    }
)


def phase_of(kind: Kind | str, step_name: str) -> Phase:
    """Which part of the dialogue a turn recorded at this step belongs to: the appointment
    (before the dialogue begins), a round, or the ending (closing)."""
    if step_name == START or step_name in BEFORE_START:
        return Phase.OPENING
    if step_name in KINDS[Kind(kind)].round_steps:
        return Phase.ROUND
    return Phase.ENDING


def waiting_message(state: State, name: str) -> str:
    """What the person who is *not* acting sees, e.g. "Sam is mirroring what you said."."""
    step = step_of(state)
    line = step.aloud_waiting if state.aloud and step.aloud_waiting else step.waiting
    return str(line).format(name=name)


def is_scheduled(state: State) -> bool:
    """Whether an appointment for later is made: the dialogue waits for its time."""
    return state.step == SCHEDULED


def start_booked(kind: Kind | str) -> State:
    """A session booked for a set time (a therapist's facilitated session): no appointment
    to ask for, it waits at the scheduled step; slot "a" is the first sender."""
    return replace(start(kind), step=SCHEDULED)


def may_cancel(state: State) -> bool:
    """Whether the appointment may be cancelled now (only while it waits for its time)."""
    return is_scheduled(state)


def open_scheduled(state: State) -> State:
    """The appointed time came: the dialogue opens at its first step, the sender to move."""
    if not is_scheduled(state):
        raise NoSuchMove(gettext("This dialogue isn't waiting for an appointed time."))
    return replace(state, step=KINDS[state.kind].round_start)


SCHEDULING_MOVES = frozenset(
    m.name for s in _STEP_LIST for m in s.moves if any(f.name == "time" for f in m.fields)
)


# --------------------------------------------------------------------------- validation


def _as_int(value: object, message: str) -> int:
    if isinstance(value, bool):
        raise InvalidInput(message)
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise InvalidInput(message)


def _clean_text(value: object, f: Field) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str) or "\x00" in value:
        raise InvalidInput(gettext("Please write your answer as plain text."))
    text = value.strip()
    if f.required and not text:
        raise InvalidInput(gettext("Please write something before sending."))
    if len(text) > MAX_TEXT:
        raise InvalidInput(
            gettext("That's longer than %(max)s characters; please shorten it.")
            % {"max": number_format(MAX_TEXT, force_grouping=True)}
        )
    return text


def _as_list(value: object, message: str) -> list:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list | tuple):
        return list(value)
    raise InvalidInput(message)


def _clean_feelings(value: object, f: Field) -> list[str]:
    words = _as_list(value, gettext("Please choose feeling words from the list."))
    cleaned: list[str] = []
    for word in words:
        if not isinstance(word, str):
            raise InvalidInput(gettext("Please choose feeling words from the list."))
        if not word.strip():
            continue
        w = feeling_code(word)  # the code, from the word as the person's language says it
        if w is None:
            raise InvalidInput(
                gettext("“%(word)s” isn't on the list of feeling words.") % {"word": word.strip()}
            )
        if w not in cleaned:
            cleaned.append(w)
    if f.required and not cleaned:
        raise InvalidInput(gettext("Please choose at least one feeling word."))
    return cleaned


def _clean_items(value: object, f: Field) -> list[str]:
    raw = _as_list(value, gettext("Please write your requests as a list."))
    items: list[str] = []
    for item in raw:
        if item is None:
            continue
        if not isinstance(item, str) or "\x00" in item:
            raise InvalidInput(gettext("Please write each request as plain text."))
        text = item.strip()
        if not text:
            continue  # blank boxes in the form are simply ignored
        if len(text) > MAX_TEXT:
            raise InvalidInput(
                gettext("One request is longer than %(max)s characters; please shorten it.")
                % {"max": number_format(MAX_TEXT, force_grouping=True)}
            )
        items.append(text)
    if len(items) > MAX_REQUESTS:
        raise InvalidInput(
            gettext("Please choose at most %(max)s requests — fewer is fine.")
            % {"max": MAX_REQUESTS}
        )
    if f.required and not items:
        raise InvalidInput(gettext("Please write at least one request."))
    return items


def _clean_choice(value: object, f: Field, state: State) -> int | None:
    if value is None or value == "":
        if f.required:
            raise InvalidInput(gettext("Please choose one request to give."))
        return None
    choice = _as_int(value, gettext("Please choose one of the requests."))
    if not 0 <= choice < state.request_count:
        raise InvalidInput(gettext("Please choose one of the requests."))
    return choice


def _clean_rating(value: object, f: Field) -> int | None:
    message = gettext("Please choose a number from %(low)s to %(high)s.") % {
        "low": MIN_RATING,
        "high": MAX_RATING,
    }
    if value is None or value == "":
        if f.required:
            raise InvalidInput(message)
        return None
    rating = _as_int(value, message)
    if not MIN_RATING <= rating <= MAX_RATING:
        raise InvalidInput(message)
    return rating


def _clean_time(value: object, f: Field) -> object:
    if value is None or value == "":
        if f.required:
            raise InvalidInput(gettext("Please suggest a time that works for you."))
        return None
    return value  # the service checks it is a real time within 24 hours


def _check_move(state: State, slot: str, move_name: str) -> Move:
    if slot not in SLOTS:
        raise NotYourTurn(gettext("Only the two partners in this dialogue can take a turn."))
    if state.finished:
        raise NoSuchMove(gettext("This dialogue is complete — the page has been refreshed."))
    step = step_of(state)
    move = step.move(move_name)
    if move is None:
        raise NoSuchMove()
    if move not in available_moves(state):
        raise NoSuchMove(move.refusal or None)
    if slot not in whose_turn(state):
        if step.actor is Actor.EACH:
            raise NotYourTurn(gettext("You've already shared your closing — your partner is next."))
        # Translators: stands for the partner's name in a waiting line ("{name} is mirroring
        # what you said."), at the start of a clause after a dash.
        partner = waiting_message(state, gettext("your partner"))
        # Translators: %(waiting)s is a waiting line, e.g. "your partner is mirroring what
        # you said."
        raise NotYourTurn(gettext("It's not your turn yet — %(waiting)s") % {"waiting": partner})
    return move


def clean_payload(
    state: State, slot: str, move_name: str, payload: Mapping[str, object] | None
) -> dict:
    """Validate a move and return its normalised payload.

    The result has one key per field of the move (unknown keys are dropped):
    ``text`` -> str ("" if optional and empty), ``feelings``/``items`` -> list[str],
    ``choice``/``rating`` -> int (None if optional and empty), ``time`` -> as given.
    """
    move = _check_move(state, slot, move_name)
    if payload is None:
        payload = {}
    if not isinstance(payload, Mapping):
        raise InvalidInput()
    cleaned: dict[str, object] = {}
    for f in move.fields:
        value = payload.get(f.name)
        f = replace(f, required=field_required(state, f))
        if f.name == "text":
            cleaned["text"] = _clean_text(value, f)
        elif f.name == "feelings":
            cleaned["feelings"] = _clean_feelings(value, f)
        elif f.name == "items":
            cleaned["items"] = _clean_items(value, f)
        elif f.name == "choice":
            cleaned["choice"] = _clean_choice(value, f, state)
        elif f.name == "rating":
            cleaned["rating"] = _clean_rating(value, f)
        elif f.name == "time":
            cleaned["time"] = _clean_time(value, f)
        else:  # pragma: no cover - guarded by a test over STEPS
            raise AssertionError(f"unknown field {f.name!r}")
    return cleaned


# --------------------------------------------------------------------------- transitions


def _next_round(state: State) -> State:
    info = KINDS[state.kind]
    return replace(
        state,
        step=info.round_start,
        round=state.round + 1,
        sender=state.receiver,
        closed=frozenset(),
        request_count=0,
        proposer="",
    )


def _transition(state: State, slot: str, move: Move, cleaned: Mapping[str, object]) -> State:
    target = move.to
    if target == _FIRST:
        return replace(state, step=KINDS[state.kind].round_start)
    if target == _NEXT_ROUND:
        return _next_round(state)
    if target == _NEXT_ROUND_OR_FINISH:
        max_rounds = KINDS[state.kind].max_rounds
        if max_rounds is not None and state.round >= max_rounds:
            return replace(state, step=FINISHED)
        return _next_round(state)
    if target == _CLOSE:
        closed = state.closed | {slot}
        step = FINISHED if closed == frozenset(SLOTS) else state.step
        return replace(state, step=step, closed=closed)
    answering = STEPS[target].actor is Actor.OTHER
    new = replace(state, step=target, proposer=slot if answering else "")
    if "items" in cleaned:
        items = cleaned["items"]
        assert isinstance(items, list)  # clean_payload: "items" is a list[str]
        new = replace(new, request_count=len(items))
    elif move.name == "skip_requests":
        new = replace(new, request_count=0)
    return new


def apply(
    state: State, slot: str, move_name: str, payload: Mapping[str, object] | None = None
) -> State:
    """Make a move. Returns the new state; raises a ProtocolError if it can't be made."""
    return decide(state, slot, move_name, payload).state


@dataclass(frozen=True)
class Decision:
    """A partner's move, decided in one call: what its turn records and the state it leaves.
    Plain values: the one door writes them and asks the protocol nothing more."""

    state: State  # after the move
    role: str  # the mover's role ("sender", "receiver") in the round the move was made in
    text: str
    data: dict  # the other fields, empty ones left out; "aloud" when said aloud
    starts: bool  # it begins the dialogue: both partners must be ready (their safety gates)
    schedules: bool  # it makes or changes an appointment (the couple's home pages show it)


def decide(
    state: State, slot: str, move_name: str, payload: Mapping[str, object] | None
) -> Decision:
    """Check and make one move: its payload cleaned once, its transition, and what its turn
    records. Raises a ProtocolError (NoSuchMove when the form was made for another step)."""
    cleaned = clean_payload(state, slot, move_name, payload)
    move = step_of(state).move(move_name)
    assert move is not None  # clean_payload checked it
    new_state = _transition(state, slot, move, cleaned)
    text = str(cleaned.pop("text", "") or "")
    data = {k: v for k, v in cleaned.items() if v not in (None, "", [], ())}
    if state.aloud and move.is_spoken:
        data["aloud"] = True  # its words were said: the transcript says so, inventing none
    return Decision(
        state=new_state,
        role=role_of(state, slot),
        text=text,
        data=data,
        starts=move.starts_dialogue and before_start(state),
        schedules=move_name in SCHEDULING_MOVES,
    )


@dataclass(frozen=True)
class Seat:
    """What one partner sees of the protocol now, in the active language, in one call: the
    step, the moves theirs to make (and their partner's, for one device taking both turns),
    their role, and what they read while it is not their move."""

    step: StepWords
    moves: tuple[MoveWords, ...]
    partner_moves: tuple[MoveWords, ...]
    role: str  # "sender" or "receiver" ("" for someone who isn't a partner)
    role_label: str
    is_sender: bool
    closed: bool  # they have shared their closing appreciation
    before_start: bool  # the dialogue itself hasn't begun (the appointment is being made)
    scheduled: bool  # an appointment for later is made: it waits for its time (may be cancelled)
    waiting: str  # named for their partner; shown only when nothing else is


def seat_of(state: State, slot: str | None, *, partner_name: str) -> Seat:
    words = words_of(state.step)
    assert words is not None  # the state's own step
    if slot not in SLOTS:
        mine: tuple[MoveWords, ...] = ()
        theirs: tuple[MoveWords, ...] = ()
        role = ""
    else:
        mine = tuple(words.moves[m.name] for m in allowed_moves(state, slot))
        theirs = tuple(words.moves[m.name] for m in allowed_moves(state, _other(slot)))
        role = role_of(state, slot)
    closed = slot in state.closed
    if state.finished:
        waiting = words.explanation
    elif closed and state.aloud:
        waiting = gettext("Thank you. %(name)s is saying their closing appreciation. Listen.") % {
            "name": partner_name
        }
    elif closed:
        waiting = gettext("Thank you. %(name)s is writing their closing appreciation.") % {
            "name": partner_name
        }
    else:
        waiting = waiting_message(state, partner_name)
    return Seat(
        step=words,
        moves=mine,
        partner_moves=theirs,
        role=role,
        role_label=role_label(role) if role else "",
        is_sender=slot == state.sender,
        closed=closed,
        before_start=before_start(state),
        scheduled=is_scheduled(state),
        waiting=waiting,
    )


# --------------------------------------------------------------------------- rewind


def rewind_targets(state: State) -> tuple[str, ...]:
    """Earlier steps of the current round a facilitator may send the dialogue back to."""
    if state.step in _NOT_REWINDABLE:
        return ()
    sequence = KINDS[state.kind].round_steps
    before = sequence[: sequence.index(state.step)]
    return tuple(
        name
        for name in before
        if name not in _NOT_REWINDABLE
        # a gift can only be chosen when requests were made
        and not (name in _REQUEST_STEPS.values() and state.request_count == 0)
    )


@dataclass(frozen=True)
class RewindChoice:
    """One step a facilitator may send the dialogue back to, as the console lists it."""

    step: str
    place: int  # its place in the round, from 1 (steps of a round may share a title)
    title: str
    actor: Actor  # who makes that step: the sender or the receiver


def rewind_choices(state: State) -> tuple[RewindChoice, ...]:
    """`rewind_targets`, each once, in the round's order, with its place in the round."""
    sequence = KINDS[state.kind].round_steps
    return tuple(
        RewindChoice(name, sequence.index(name) + 1, STEPS[name].title, STEPS[name].actor)
        for name in rewind_targets(state)
    )


def rewind(state: State, step_name: str) -> State:
    """Send the dialogue back to an earlier step of this round ("let's mirror that again")."""
    if step_name not in rewind_targets(state):
        raise InvalidInput(gettext("The dialogue can't go back to that step from here."))
    new = replace(state, step=step_name, proposer="")  # a proposal is withdrawn
    sequence = KINDS[state.kind].round_steps
    for request_step in _REQUEST_STEPS:
        if request_step in sequence and sequence.index(step_name) <= sequence.index(request_step):
            new = replace(new, request_count=0)
    return new
