"""Reads for agreements, caring behaviours and progress. A caring list is shown to its author
always, to the partner (and a linked therapist) only once shared: every read here takes the
viewer and filters on that."""

from __future__ import annotations

import datetime
from collections import Counter
from dataclasses import dataclass

from django.db.models import Prefetch, Q
from django.template.defaultfilters import floatformat
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext, pgettext

from couples.models import Couple, User
from couples.selectors import when
from dialogues import protocol
from dialogues import selectors as dialogue_selectors
from dialogues.models import DialogueSession, Turn
from live import clock
from practice import charts, measures
from practice.models import (
    CSI4_EVERY,
    CSI16_EVERY,
    Agreement,
    AgreementDay,
    AgreementThanks,
    CaringBehaviour,
    CaringGiven,
    CaringList,
    ChildhoodReflection,
    Exit,
    MeasureAnswer,
    MeasureRhythm,
    MeasureSharing,
)
from safety.models import SafetyScreening

WEEKS = 8  # the progress page's weeks
RATING_MOVES = protocol.moves_asking("rating")


def _today() -> datetime.date:
    return timezone.localdate(clock.now())


def week_start(day: datetime.date) -> datetime.date:
    return day - datetime.timedelta(days=day.weekday())  # Monday


# --- agreements --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AgreementView:
    agreement: Agreement
    days_done: list[datetime.date]
    done_today: bool
    days_so_far: int  # days of it that have come (today included)
    thanks: list[AgreementThanks]
    is_open: bool

    @property
    def kept(self) -> int:
        return len(self.days_done)


def _agreements(couple: Couple, *, since: datetime.date | None = None) -> list[AgreementView]:
    today = _today()
    rows = (
        Agreement.objects.filter(couple=couple)
        .select_related("giver", "receiver")
        .prefetch_related(
            Prefetch("days_done", queryset=AgreementDay.objects.order_by("day")),
            Prefetch("thanks", queryset=AgreementThanks.objects.order_by("created_at", "pk")),
        )
    )
    views = []
    for agreement in rows:
        if since is not None and agreement.ends_on < since:
            continue
        days = [d.day for d in agreement.days_done.all()]
        so_far = max(0, min((today - agreement.starts_on).days + 1, agreement.days))
        views.append(
            AgreementView(
                agreement=agreement,
                days_done=days,
                done_today=today in days,
                days_so_far=so_far,
                thanks=list(agreement.thanks.all()),
                is_open=agreement.is_open_on(today),
            )
        )
    return views


def agreements_open(*, couple: Couple | None) -> list[AgreementView]:
    """The couple's agreements running today (home page, couple page)."""
    if couple is None:
        return []
    return [v for v in _agreements(couple) if v.is_open]


def agreement_days_since(*, couple: Couple, since: datetime.datetime) -> int:
    return AgreementDay.objects.filter(agreement__couple=couple, done_at__gte=since).count()


# --- caring behaviours -------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekDay:
    day: datetime.date
    mine: CaringGiven | None  # what the viewer gave that day
    theirs: CaringGiven | None  # what the partner gave the viewer that day


@dataclass(frozen=True)
class CaringView:
    my_list: CaringList | None
    my_items: list[CaringBehaviour]
    partner_shared: bool
    partner_items: list[CaringBehaviour]  # empty unless shared
    given_today: CaringGiven | None
    week: list[WeekDay]
    week_of: datetime.date


def caring_for(
    *, user: User, partner: User, couple: Couple, week_of: datetime.date | None = None
) -> CaringView:
    """One partner's caring page: their own list, the partner's once shared, and a week of
    what each gave the other."""
    today = _today()
    start = week_start(week_of or today)
    lists = {cl.author_id: cl for cl in CaringList.objects.filter(couple=couple)}
    mine, theirs = lists.get(user.pk), lists.get(partner.pk)
    my_items = list(mine.items.filter(removed_at__isnull=True)) if mine else []
    shared = bool(theirs and theirs.shared_at)
    partner_items = list(theirs.items.filter(removed_at__isnull=True)) if theirs and shared else []
    given = list(
        CaringGiven.objects.filter(
            couple=couple, day__gte=start, day__lt=start + datetime.timedelta(days=7)
        ).select_related("behaviour")
    )
    by = {(g.giver_id, g.day): g for g in given}
    week = [
        WeekDay(day, by.get((user.pk, day)), by.get((partner.pk, day)))
        for day in (start + datetime.timedelta(days=i) for i in range(7))
    ]
    return CaringView(
        my_list=mine,
        my_items=my_items,
        partner_shared=shared,
        partner_items=partner_items,
        given_today=by.get((user.pk, today)),
        week=week,
        week_of=start,
    )


def caring_shared_lists(*, couple: Couple) -> list[tuple[User, list[CaringBehaviour]]]:
    """For a linked therapist: the lists their authors have shared (nothing of one not shared)."""
    lists = CaringList.objects.filter(couple=couple, shared_at__isnull=False).select_related(
        "author"
    )
    return [(cl.author, list(cl.items.filter(removed_at__isnull=True))) for cl in lists]


def caring_given_since(*, couple: Couple, since: datetime.datetime) -> int:
    return CaringGiven.objects.filter(couple=couple, created_at__gte=since).count()


# --- progress ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeardRow:
    session: DialogueSession
    ratings: list[int | None]  # one per partner, in the partners' order


@dataclass(frozen=True)
class WeekRow:
    week: datetime.date
    counts: list[int]  # one per kind (dialogues) or per partner (caring)

    @property
    def total(self) -> int:
        return sum(self.counts)


@dataclass(frozen=True)
class Progress:
    partners: list[User]
    heard: list[HeardRow]
    heard_chart: charts.Chart
    kinds: list[str]
    dialogue_weeks: list[WeekRow]
    dialogue_chart: charts.Chart
    agreements: list[AgreementView]
    caring_weeks: list[WeekRow]
    caring_chart: charts.Chart


def heard_ratings(*, couple: Couple, partners: list[User], limit: int = 30) -> list[HeardRow]:
    """How heard each partner felt at the close of each dialogue, oldest first (closing
    ratings are in the turns' encrypted data: found by move, read in Python)."""
    turns = (
        Turn.objects.filter(session__couple=couple, kind=Turn.Kind.MOVE, move__in=RATING_MOVES)
        .select_related("session")
        .order_by("session__created_at", "session_id", "seq")
    )
    rows: dict[int, HeardRow] = {}
    index = {p.pk: i for i, p in enumerate(partners)}
    for turn in turns:
        rating = turn.data.get("rating")
        if not isinstance(rating, int) or turn.actor_id not in index:
            continue
        row = rows.setdefault(turn.session_id, HeardRow(turn.session, [None] * len(partners)))
        row.ratings[index[turn.actor_id]] = rating
    return list(rows.values())[-limit:]


def _short(day: datetime.date) -> str:
    # Translators: a Django date format for a chart's axis: "3 Mar".
    return dateformat.format(day, pgettext("date format", "j M"))


def _weeks(today: datetime.date) -> list[datetime.date]:
    last = week_start(today)
    return [last - datetime.timedelta(weeks=WEEKS - 1 - i) for i in range(WEEKS)]


def progress_for(*, couple: Couple, partners: list[User]) -> Progress:
    """Everything the progress page shows, for the couple's partners and a linked therapist."""
    today = _today()
    weeks = _weeks(today)
    heard = heard_ratings(couple=couple, partners=partners)
    heard_chart = charts.line_chart(
        labels=[_short(timezone.localtime(r.session.created_at).date()) for r in heard],
        series=[(p.display_name, [r.ratings[i] for r in heard]) for i, p in enumerate(partners)],
        low=protocol.MIN_RATING,
        high=protocol.MAX_RATING,
    )
    kinds = list(protocol.KINDS)
    counts: Counter[tuple[datetime.date, str]] = Counter()
    for created, kind in DialogueSession.objects.filter(
        couple=couple, created_at__date__gte=weeks[0]
    ).values_list("created_at", "kind"):
        counts[(week_start(timezone.localtime(created).date()), kind)] += 1
    dialogue_weeks = [WeekRow(w, [counts[(w, k.value)] for k in kinds]) for w in weeks]
    labels = [_short(w) for w in weeks]
    dialogue_chart = charts.bar_chart(
        labels=labels,
        stacks=[
            (protocol.KINDS[k].title, [row.counts[i] for row in dialogue_weeks])
            for i, k in enumerate(kinds)
        ],
    )
    given: Counter[tuple[datetime.date, int]] = Counter()
    for day, giver in CaringGiven.objects.filter(couple=couple, day__gte=weeks[0]).values_list(
        "day", "giver_id"
    ):
        given[(week_start(day), giver)] += 1
    caring_weeks = [WeekRow(w, [given[(w, p.pk)] for p in partners]) for w in weeks]
    caring_chart = charts.bar_chart(
        labels=labels,
        stacks=[
            (p.display_name, [row.counts[i] for row in caring_weeks])
            for i, p in enumerate(partners)
        ],
    )
    return Progress(
        partners=partners,
        heard=heard,
        heard_chart=heard_chart,
        kinds=[protocol.KINDS[k].title for k in kinds],
        dialogue_weeks=dialogue_weeks,
        dialogue_chart=dialogue_chart,
        agreements=_agreements(couple),
        caring_weeks=caring_weeks,
        caring_chart=caring_chart,
    )


def heard_sparkline(*, couple: Couple, partners: list[User]) -> tuple[str, str]:
    """For a therapist's dashboard: the points of the last ten dialogues' mean felt-heard
    rating, and a sentence saying the same."""
    means = [
        sum(v for v in r.ratings if v is not None) / len([v for v in r.ratings if v is not None])
        for r in heard_ratings(couple=couple, partners=partners, limit=10)
        if any(v is not None for v in r.ratings)
    ]
    if not means:
        return "", _("No felt-heard ratings yet.")
    # Translators: between the ratings of a list ("2.5, 4.5"); "; " where "," marks decimals.
    words = pgettext("list of numbers", ", ").join(floatformat(m, -1) for m in means)
    sentence = ngettext(
        # Translators: each rating is the mean of both partners' closing ratings, from 1 to 5.
        "Felt heard in the last dialogue: %(ratings)s of 5.",
        "Felt heard in the last %(count)s dialogues, each out of 5: %(ratings)s.",
        len(means),
    ) % {"count": len(means), "ratings": words}
    return charts.sparkline(means), sentence


# --- closing exits ------------------------------------------------------------------------------


def exits_own(*, user: User, couple: Couple) -> list[Exit]:
    """The person's own exits (private to them), each with the agreement closing it, if any."""
    return list(
        Exit.objects.filter(couple=couple, author=user, removed_at__isnull=True).select_related(
            "closed_by__giver"
        )
    )


def exits_closing(*, couple: Couple) -> list[AgreementView]:
    """The exits either partner has chosen to close, as agreements both of them see."""
    return [v for v in _agreements(couple) if v.agreement.giver_wrote]


def exits_export(*, user: User) -> list[dict]:
    """This person's own exits (their partner's are never in it)."""
    return [
        {
            "id": e.public_id,
            "couple": e.couple.public_id,
            "exit": e.text,
            "what_i_avoid": e.avoids,
            "created_at": when(e.created_at),
            "removed_at": when(e.removed_at),
        }
        for e in Exit.objects.filter(author=user).select_related("couple").order_by("created_at")
    ]


# --- the childhood reflection -----------------------------------------------------------------
# Its author always sees it; their partner only while it is shared with the partner; a linked
# therapist (the caller checks the link) only while it is shared with the therapist.


def reflection_own(*, user: User, couple: Couple) -> ChildhoodReflection | None:
    return ChildhoodReflection.objects.filter(couple=couple, author=user).first()


def reflection_shared_by_partner(
    *, viewer: User, partner: User, couple: Couple
) -> ChildhoodReflection | None:
    """The partner's reflection, if they share it with the viewer now."""
    if viewer.pk == partner.pk:
        return None
    return ChildhoodReflection.objects.filter(
        couple=couple, author=partner, shared_with_partner_at__isnull=False
    ).first()


def reflections_shared_with_therapist(*, couple: Couple) -> list[ChildhoodReflection]:
    """The reflections the couple's partners share with their linked therapist now."""
    return list(
        ChildhoodReflection.objects.filter(couple=couple, shared_with_therapist_at__isnull=False)
        .select_related("author")
        .order_by("author__display_name", "pk")
    )


def reflection_export(*, user: User) -> list[dict]:
    """This person's own reflections only: never the partner's, even one shared with them."""
    return [
        {
            "id": r.public_id,
            "couple": r.couple.public_id,
            "answers": [{"question": q, "answer": a} for q, a in r.answered()],
            "shared_with_partner_since": when(r.shared_with_partner_at),
            "shared_with_therapist_since": when(r.shared_with_therapist_at),
            "updated_at": when(r.updated_at),
        }
        for r in ChildhoodReflection.objects.filter(author=user)
        .select_related("couple")
        .order_by("created_at", "pk")
    ]


# --- "your data" export --------------------------------------------------------------------


def agreements_export(*, user: User) -> list[dict]:
    """Every agreement this person gave or received, with the days kept and appreciations."""
    rows = (
        Agreement.objects.filter(Q(giver=user) | Q(receiver=user))
        .select_related("giver", "receiver", "couple")
        .prefetch_related("days_done", "thanks")
        .order_by("created_at", "pk")
    )
    return [
        {
            "id": a.public_id,
            "couple": a.couple.public_id,
            "you": "gave" if a.giver_id == user.pk else "received",
            "text": a.text,  # a person's words, as written
            "pledge": a.pledge,  # an exit closed: "shut" or "lessen"
            "agreed_to": a.phrased(a.text),  # in the language of the export's request
            "starts_on": when(a.starts_on),
            "days": a.days,
            "days_done": [when(d.day) for d in a.days_done.all()],
            "appreciations": [
                {
                    "by": "you" if t.author_id == user.pk else "partner",
                    "text": t.text,
                    "at": when(t.created_at),
                }
                for t in a.thanks.all()
            ],
        }
        for a in rows
    ]


def caring_export(*, user: User) -> dict:
    """This person's own caring lists (all of them), their partners' lists as far as shared
    with them, and what each gave the other."""
    couples = user.memberships.values("couple")
    lists = CaringList.objects.filter(couple__in=couples).select_related("author", "couple")
    exported: dict[str, list] = {"my_lists": [], "shared_with_me": [], "given": []}
    for cl in lists:
        if cl.author_id == user.pk:
            key = "my_lists"
        elif cl.shared_at is not None:
            key = "shared_with_me"
        else:
            continue
        exported[key].append(
            {
                "couple": cl.couple.public_id,
                "shared_at": when(cl.shared_at),
                "items": [
                    {"id": i.public_id, "text": i.text, "removed_at": when(i.removed_at)}
                    for i in cl.items.all()
                ],
            }
        )
    given = (
        CaringGiven.objects.filter(couple__in=couples)
        .filter(Q(giver=user) | Q(behaviour__caring_list__author=user))
        .select_related("behaviour")
    )
    exported["given"] = [
        {
            "by": "you" if g.giver_id == user.pk else "partner",
            "behaviour": g.behaviour.public_id,
            "day": when(g.day),
            "acknowledged_at": when(g.acknowledged_at),
        }
        for g in given.order_by("day", "pk")
    ]
    return exported


# --- outcome measures ----------------------------------------------------------------------

# Scheduled offers are at least this far apart, whichever questionnaire (a therapist's
# "send one now" is not held back by it).
MIN_GAP = datetime.timedelta(days=7)
# After a concerning answer to the safety questions, no questionnaire for this long.
AFTER_CONCERN = datetime.timedelta(days=14)


@dataclass(frozen=True)
class Rhythm:
    csi4_days: int
    csi16_days: int
    requested: str
    requested_at: datetime.datetime | None


def measure_rhythm(*, couple: Couple) -> Rhythm:
    row = MeasureRhythm.objects.filter(couple=couple).first()
    if row is None:
        return Rhythm(CSI4_EVERY[0], CSI16_EVERY[0], "", None)
    return Rhythm(row.csi4_days, row.csi16_days, row.requested, row.requested_at)


def _safety_concern(user: User, couple: Couple) -> bool:
    """Not ready for dialogue by their own answers, or a concerning answer lately."""
    screening = SafetyScreening.objects.filter(user=user).first()
    if screening is None or screening.couple_id != couple.pk or not screening.ready:
        return True
    return screening.needs_attention and screening.updated_at > clock.now() - AFTER_CONCERN


def measure_due(*, user: User, couple: Couple) -> measures.Instrument | None:
    """The questionnaire to offer this partner now, if any: the one their therapist sent
    (until answered or skipped), else the CSI-16 once its period has passed, else the CSI-4
    once its period has passed; never two within a week, never during a time-out, never
    while the person's safety answers are of concern."""
    if DialogueSession.objects.filter(couple=couple, status=DialogueSession.Status.PAUSED).exists():
        return None
    if _safety_concern(user, couple):
        return None
    rhythm = measure_rhythm(couple=couple)
    last: dict[str, datetime.datetime] = {}
    for code, at in MeasureAnswer.objects.filter(person=user, couple=couple).values_list(
        "instrument", "created_at"
    ):
        last[code] = max(at, last.get(code, at))
    now = clock.now()
    if rhythm.requested in measures.INSTRUMENTS and rhythm.requested_at is not None:
        done = last.get(rhythm.requested)
        if done is None or done < rhythm.requested_at:
            return measures.INSTRUMENTS[rhythm.requested]
    latest = max(last.values(), default=None)
    if latest is not None and now - latest < MIN_GAP:
        return None
    # A CSI-16 holds the CSI-4's items: the CSI-4's time counts from either.
    for instrument, days, done in (
        (measures.CSI16, rhythm.csi16_days, last.get(measures.CSI16.code)),
        (measures.CSI4, rhythm.csi4_days, latest),
    ):
        if days and (done is None or now - done >= datetime.timedelta(days=days)):
            return instrument
    return None


@dataclass(frozen=True)
class ScorePoint:
    at: datetime.datetime
    instrument: str  # the questionnaire answered
    csi4: int  # every answer has the CSI-4's items
    csi16: int | None
    language: str

    @property
    def csi4_below(self) -> bool:
        return measures.below_cut_off(measures.CSI4, self.csi4)

    @property
    def csi16_below(self) -> bool:
        return self.csi16 is not None and measures.below_cut_off(measures.CSI16, self.csi16)


def measure_scores(*, couple: Couple, person: User) -> list[ScorePoint]:
    """This person's answered questionnaires in this couple, oldest first, scored."""
    points = []
    for row in MeasureAnswer.objects.filter(couple=couple, person=person, skipped=False):
        answers = row.answers or {}
        csi4 = measures.score(measures.CSI4, answers)
        if csi4 is None:
            continue
        csi16 = measures.score(measures.CSI16, answers)
        points.append(ScorePoint(row.created_at, row.instrument, csi4, csi16, row.language))
    return points


def sharing_of(*, couple: Couple, person: User) -> MeasureSharing | None:
    return MeasureSharing.objects.filter(couple=couple, person=person).first()


@dataclass(frozen=True)
class PartnerScores:
    person: User
    visible: bool  # this viewer may see the scores
    answered: int  # how many questionnaires they answered (all a partner learns otherwise)
    last_at: datetime.datetime | None
    points: list[ScorePoint]
    shared: bool  # the person shares their scores with their partner


@dataclass(frozen=True)
class MeasuresView:
    partners: list[PartnerScores]
    chart: charts.Chart
    chart16: charts.Chart
    rows: list[tuple[datetime.datetime, str, ScorePoint]]  # (when, whose name, the scores)
    csi4: measures.Instrument = measures.CSI4
    csi16: measures.Instrument = measures.CSI16

    @property
    def any_visible(self) -> bool:
        return any(p.visible and p.points for p in self.partners)


def _score_chart(
    visible: list[PartnerScores], instrument: measures.Instrument, *, wide: bool
) -> charts.Chart:
    field = "csi4" if instrument is measures.CSI4 else "csi16"
    days = sorted(
        {
            timezone.localtime(pt.at).date()
            for p in visible
            for pt in p.points
            if getattr(pt, field) is not None
        }
    )
    series = []
    for p in visible:
        by_day = {
            timezone.localtime(pt.at).date(): getattr(pt, field)
            for pt in p.points
            if getattr(pt, field) is not None
        }
        series.append((p.person.display_name, [by_day.get(d) for d in days]))
    return charts.line_chart(
        labels=[_short(d) for d in days],
        series=series,
        low=0,
        high=instrument.high,
        step=27 if wide else 7,  # four labels: 0, 7, 14, 21 (0, 27, 54, 81)
        line_at=instrument.cut_off,
        # Translators: the label of a chart's dashed line: "cut-off 13.5".
        line_label=_("cut-off %(value)s") % {"value": floatformat(instrument.cut_off, 1)},
    )


def measures_for(*, couple: Couple, partners: list[User], viewer: User) -> MeasuresView:
    """Each partner's questionnaire scores as this viewer may see them: their own always, the
    partner's once shared with them, both for a linked therapist (the caller checks the link
    and audits the read)."""
    sharing = {
        s.person_id: s for s in MeasureSharing.objects.filter(couple=couple, person__in=partners)
    }
    is_partner = any(p.pk == viewer.pk for p in partners)
    rows: list[PartnerScores] = []
    for person in partners:
        shared = (
            sharing.get(person.pk) is not None and sharing[person.pk].scores_shared_at is not None
        )
        visible = person.pk == viewer.pk or shared or not is_partner
        answered = MeasureAnswer.objects.filter(couple=couple, person=person, skipped=False)
        count = answered.count()
        last = answered.order_by("-created_at").values_list("created_at", flat=True).first()
        points = measure_scores(couple=couple, person=person) if visible else []
        rows.append(PartnerScores(person, visible, count, last, points, shared))
    visible_rows = [r for r in rows if r.visible and r.points]
    table = sorted(
        ((pt.at, r.person.display_name, pt) for r in visible_rows for pt in r.points),
        key=lambda row: row[0],
    )
    return MeasuresView(
        partners=rows,
        chart=_score_chart(visible_rows, measures.CSI4, wide=False),
        chart16=_score_chart(visible_rows, measures.CSI16, wide=True),
        rows=table,
    )


def measure_trend(*, couple: Couple, partners: list[User]) -> tuple[str, bool]:
    """For a therapist's dashboard, in one sentence: each partner's latest CSI-4 score (from
    either questionnaire) and its change since their previous one; and whether it shows any
    score (a read to audit)."""
    parts = []
    for person in partners:
        scores = [p.csi4 for p in measure_scores(couple=couple, person=person)]
        if len(scores) > 1:
            # Translators: a partner's latest CSI-4 score on a therapist's dashboard, with the
            # change since their previous one: "Alex 15 of 21 (+2)".
            parts.append(
                _("%(name)s %(score)s of 21 (%(change)+d)")
                % {
                    "name": person.display_name,
                    "score": scores[-1],
                    "change": scores[-1] - scores[-2],
                }
            )
        elif scores:
            parts.append(
                _("%(name)s %(score)s of 21") % {"name": person.display_name, "score": scores[-1]}
            )
    if not parts:
        return _("No questionnaires answered yet."), False
    # Translators: before the partners' latest CSI-4 scores on a therapist's dashboard; the
    # list is "Alex 15 of 21 (+2); Sam 12 of 21".
    return _("Satisfaction (CSI-4): %(scores)s.") % {"scores": "; ".join(parts)}, True


def measures_export(*, user: User) -> list[dict]:
    """This person's own answers (never the partner's), with their scores."""
    rows = []
    for row in (
        MeasureAnswer.objects.filter(person=user)
        .select_related("couple")
        .order_by("created_at", "pk")
    ):
        answers = row.answers or {}
        instrument = measures.INSTRUMENTS.get(row.instrument)
        rows.append(
            {
                "id": row.public_id,
                "couple": row.couple.public_id,
                "questionnaire": row.instrument,
                "skipped": row.skipped,
                "answers": answers,
                "score": measures.score(instrument, answers) if instrument and answers else None,
                "language": row.language,
                "at": when(row.created_at),
            }
        )
    return rows


# --- how complete each partner's mirrors were (dialogues.selectors.mirrors_summary) --------

MIRROR_DIALOGUES = 20  # the progress page's last dialogues
LEFT_WIDE = 60  # room for "100" beside the chart


@dataclass(frozen=True)
class MirrorRow:
    session: DialogueSession
    kept: list[int | None]  # per partner shown: the mean share their mirrors kept, in percent


@dataclass(frozen=True)
class MirrorsView:
    people: list[User]  # the partners whose mirrors this viewer may see (themselves first)
    others: list[User]  # for each, whose words they mirrored
    rows: list[MirrorRow]
    chart: charts.Chart

    @property
    def empty(self) -> bool:
        return not any(v is not None for r in self.rows for v in r.kept)


def mirrors_for(*, couple: Couple, partners: list[User], viewer: User) -> MirrorsView:
    """How much of what the other said each partner's mirrors kept, dialogue by dialogue: the
    viewer's own always, the partner's only once they share it (a therapist sees none)."""
    sharing = {
        s.person_id: s.mirrors_shared_at is not None
        for s in MeasureSharing.objects.filter(couple=couple, person__in=partners)
    }
    people = [p for p in partners if p.pk == viewer.pk]
    people += [p for p in partners if p.pk != viewer.pk and sharing.get(p.pk) and people]
    others = [next((o for o in partners if o.pk != p.pk), p) for p in people]
    sessions = list(
        DialogueSession.objects.filter(
            couple=couple,
            status__in=[DialogueSession.Status.COMPLETED, DialogueSession.Status.ENDED],
        )
        .select_related("partner_a", "partner_b")
        .order_by("-created_at")[:MIRROR_DIALOGUES]
    )[::-1]
    rows = []
    for session in sessions:
        kept: list[int | None] = []
        for person in people:
            kept.append(dialogue_selectors.mirrors_summary(session=session, person=person).kept)
        if any(v is not None for v in kept):
            rows.append(MirrorRow(session, kept))
    chart = charts.line_chart(
        labels=[_short(timezone.localtime(r.session.created_at).date()) for r in rows],
        series=[(p.display_name, [r.kept[i] for r in rows]) for i, p in enumerate(people)],
        low=0,
        high=100,
        step=25,
        left=LEFT_WIDE,
    )
    return MirrorsView(people, others, rows, chart)
