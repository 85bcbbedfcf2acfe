"""Reads about safety: the private questions, support lines, whether a dialogue may start,
and the quick check-in before a dialogue.

Imago dialogue is only safe when neither partner is afraid of the other. Before a partner's
first joint dialogue, each answers a few questions on their own. The answers are private:
never logged, never in the admin, never shown to the partner. The partner only ever learns
whether this person is ready to start, in words that are the same whatever the reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _gettext_lazy
from django.utils.translation import pgettext_lazy as _pgettext_lazy

from couples.models import Couple, User
from couples.selectors import couple_for
from couples.services import CoupleError
from safety.models import SafetyScreening, SupportResource


# Texts defined at import as lazy translations (read in the language active when shown).
# Typed as str: they are used wherever a str is, and render as one.
def gettext_lazy(message: str) -> str:
    return cast(str, _gettext_lazy(message))


def pgettext_lazy(context: str, message: str) -> str:
    return cast(str, _pgettext_lazy(context, message))


# What the other partner is told, whatever the reason (not answered, or answered with concern).
PARTNER_NOT_READY = gettext_lazy("Your partner isn't ready to start yet.")


class SafetyError(CoupleError):
    """Something that can't be done; `message` is shown to the person as it is."""


# --- the questions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    value: str
    label: str
    concern: bool = False


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    choices: tuple[Choice, ...]

    def choice(self, value: str) -> Choice | None:
        return next((c for c in self.choices if c.value == value), None)


# The answers' values are stored; their labels are what the person reads.
_NO = Choice("no", pgettext_lazy("safety answer", "No"))
_YES = Choice("yes", pgettext_lazy("safety answer", "Yes"), True)
_SOMETIMES = Choice("sometimes", pgettext_lazy("safety answer", "Sometimes"), True)
_OFTEN = Choice("often", pgettext_lazy("safety answer", "Often"), True)
QUESTIONS: tuple[Question, ...] = (
    Question(
        "afraid",
        gettext_lazy("Do you ever feel afraid of your partner?"),
        (_NO, _SOMETIMES, _OFTEN),
    ),
    Question(
        "hurt",
        gettext_lazy(
            "In the past year, has your partner hurt you, threatened you, or made you do "
            "something you didn't want to?"
        ),
        (_NO, _YES),
    ),
    Question(
        "control",
        gettext_lazy(
            "Does your partner try to control where you go, who you see, your money or your phone?"
        ),
        (_NO, _SOMETIMES, _OFTEN),
    ),
    Question(
        "addiction",
        gettext_lazy(
            "Is either of you struggling right now with alcohol, drugs, gambling or another "
            "addiction?"
        ),
        (_NO, Choice("unsure", pgettext_lazy("safety answer", "I'm not sure")), _YES),
    ),
    Question(
        "crisis",
        gettext_lazy("Are you in crisis right now, or having thoughts of harming yourself?"),
        (_NO, _YES),
    ),
)


# --- support lines -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Resource:
    kind: str
    name: str
    description: str
    phone: str
    url: str


# Shown if the table is empty (the data migration normally adds editable placeholders).
FALLBACK_RESOURCES = (
    Resource(
        "emergency",
        gettext_lazy("Your local emergency number"),
        gettext_lazy(
            "If you are in danger right now, call your local emergency number "
            "(for example 112, 911 or 999)."
        ),
        "",
        "",
    ),
    Resource(
        "crisis",
        gettext_lazy("A crisis line near you"),
        gettext_lazy("Free, confidential helplines, listed by country."),
        "",
        "https://findahelpline.com",
    ),
)


def support_countries() -> list[tuple[str, str]]:
    """Countries with their own support lines, as (code, name), by name."""
    rows = (
        SupportResource.objects.filter(is_active=True)
        .exclude(country="")
        .values_list("country", "country_name")
        .distinct()
    )
    names: dict[str, str] = {}
    for code, name in rows:
        names[code] = names.get(code) or name or code
    return sorted(names.items(), key=lambda item: item[1])


def country_choice(*, requested: str = "", saved: str = "") -> str:
    """The country to show lines for: asked for, else saved, else the site default."""
    codes = {code for code, _name in support_countries()}
    for candidate in (requested, saved, settings.SAFETY_DEFAULT_COUNTRY):
        candidate = (candidate or "").strip().upper()[:2]
        if candidate in codes:
            return candidate
    return ""


def support_resources(*, country: str = "") -> list[Resource]:
    """The country's lines, or the default ones where the country has none."""
    active = SupportResource.objects.filter(is_active=True).order_by("order", "pk")
    rows = list(active.filter(country=country)) if country else []
    if not rows:
        rows = list(active.filter(country=""))
    if not rows:
        return list(FALLBACK_RESOURCES)
    return [Resource(r.kind, r.name, r.description, r.phone, r.url) for r in rows]


# --- reads -------------------------------------------------------------------------------------

State = Literal["not_started", "not_ready", "ready"]


def screening_of(*, user: User) -> SafetyScreening | None:
    if not user.is_authenticated:
        return None
    return SafetyScreening.objects.filter(user=user).first()


def state_of(screening: SafetyScreening | None, couple: Couple | None) -> State:
    if screening is None or screening.completed_at is None or couple is None:
        return "not_started"
    if screening.couple_id != couple.pk:
        return "not_started"  # answered about an earlier partner
    return "ready" if screening.ready else "not_ready"


def screening_state(*, user: User, couple: Couple | None = None) -> State:
    """This person's own state: only ever shown to this person."""
    couple = couple or couple_for(user=user)
    return state_of(screening_of(user=user), couple)


@dataclass(frozen=True)
class StartGate:
    """Whether a dialogue may start. `mine` is private to the viewer; about the partner we
    know only whether they are ready, never why not."""

    mine: State
    partner_ready: bool

    @property
    def open(self) -> bool:
        return self.mine == "ready" and self.partner_ready

    @property
    def partner_message(self) -> str:
        return "" if self.partner_ready else PARTNER_NOT_READY


def start_gate(*, user: User, couple: Couple, partner: User | None) -> StartGate:
    screenings = {
        s.user_id: s
        for s in SafetyScreening.objects.filter(
            user_id__in=[user.pk] + ([partner.pk] if partner else [])
        )
    }
    mine = state_of(screenings.get(user.pk), couple)
    theirs = state_of(screenings.get(partner.pk), couple) if partner else "not_started"
    return StartGate(mine=mine, partner_ready=theirs == "ready")


def screening_status_for_therapist(
    *, user: User
) -> Literal["not_started", "ok", "needs_attention"]:
    """What a linked therapist may know about a partner's safety questions (not the answers).

    The caller checks that the therapist is linked to this person's couple.
    """
    screening = screening_of(user=user)
    if screening is None or state_of(screening, couple_for(user=user)) == "not_started":
        return "not_started"
    return "needs_attention" if screening.needs_attention else "ok"


@dataclass(frozen=True)
class AnswerView:
    question: str
    answer: str  # "Skipped" when the person left it out


def answers_view(screening: SafetyScreening) -> list[AnswerView]:
    views = []
    for question in QUESTIONS:
        choice = question.choice((screening.answers or {}).get(question.key, ""))
        answer = choice.label if choice else _("Skipped")
        views.append(AnswerView(str(question.text), str(answer)))
    return views


def shared_answers_for_therapist(*, user: User) -> list[AnswerView] | None:
    """The answers, only if this person chose to share them (None otherwise).

    The caller checks that the therapist is linked to this person's couple, and audits the read.
    """
    screening = screening_of(user=user)
    if screening is None or not screening.shared_with_therapist:
        return None
    if state_of(screening, couple_for(user=user)) == "not_started":
        return None
    return answers_view(screening)


# --- the quick check-in before a dialogue -------------------------------------------------------

# The check-in's words (values stored in the form, labels read). Translators: each label is
# also said, lowercased, in "You said you're …" (in Spanish a noun, e.g. "hambre", fits
# "Dijiste que sientes …").
HALT = (
    ("hungry", pgettext_lazy("check-in", "Hungry")),
    ("angry", pgettext_lazy("check-in", "Angry")),
    ("lonely", pgettext_lazy("check-in", "Lonely")),
    ("tired", pgettext_lazy("check-in", "Tired")),
)
# Translators: what may help first, each fitting "It may help to … first."
HALT_ADVICE = {
    "hungry": gettext_lazy("eat something"),
    "angry": gettext_lazy("let the anger settle"),
    "lonely": gettext_lazy("reach out to someone"),
    "tired": gettext_lazy("rest"),
}
INTENSITY = range(1, 11)
COOLING_AT = 8


@dataclass(frozen=True)
class CheckIn:
    """How a person feels right before a dialogue. Private: not saved, not shown to anyone."""

    halt: tuple[str, ...] = ()
    intensity: int | None = None

    @property
    def intense(self) -> bool:
        return self.intensity is not None and self.intensity >= COOLING_AT

    @property
    def suggests_a_pause(self) -> bool:
        return self.intense or bool(self.halt)

    @property
    def halt_labels(self) -> list[str]:
        return [str(label).lower() for value, label in HALT if value in self.halt]

    @property
    def advice(self) -> list[str]:
        return [str(HALT_ADVICE[value]) for value, _label in HALT if value in self.halt]


def checkin_read(data: Mapping[str, Any]) -> CheckIn:
    """The check-in from a posted form (a QueryDict or a dict); every part may be skipped."""
    getlist = data.getlist if hasattr(data, "getlist") else lambda k: data.get(k) or []
    values = getlist("halt")
    if isinstance(values, str):
        values = [values]
    known = {value for value, _label in HALT}
    if any(v not in known for v in values):
        raise SafetyError(_("Please tick only the words listed."))
    halt = tuple(value for value, _label in HALT if value in values)
    raw = str(data.get("intensity") or "").strip()
    intensity = None
    if raw:
        if not raw.isdigit() or int(raw) not in INTENSITY:
            raise SafetyError(
                _("Please choose a number from %(low)s to %(high)s, or leave it out.")
                % {"low": INTENSITY.start, "high": INTENSITY.stop - 1}
            )
        intensity = int(raw)
    return CheckIn(halt=halt, intensity=intensity)
