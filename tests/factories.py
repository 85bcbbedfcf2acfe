"""Factories for people, couples and invitations (factory-boy), and the few helpers that put
them in a state: the safety questions answered (screen) and a therapist linked (link_with_consent).

Every user has the same password and a verified allauth email address, so the
login page works for them; therapists and staff also have two-factor authentication (without
it the middleware sends them to set it up), unless made with mfa=False. Pairing goes through
the real services where it matters (invitations, links), and straight to the models where
it's only set-up.
"""

from __future__ import annotations

from datetime import timedelta

import factory
from allauth.account.models import EmailAddress
from django.utils import timezone

from couples import selectors, services
from couples.models import Couple, Invitation, Membership, User
from live import clock
from safety import services as safety_services
from tests.helpers import form_token
from tests.mfa import give_mfa
from therapists import services as therapist_services
from therapists.workshops import services as workshop_services
from therapists.workshops.models import Attendance, Segment, Workshop

PASSWORD = "correct-horse-battery"


class UserFactory(factory.django.DjangoModelFactory):
    """A partner with a verified email address."""

    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Person {n}")
    kind = User.Kind.PARTNER

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])

    @factory.post_generation
    def verified_email(obj: User, create: bool, extracted: bool | None, **kwargs) -> None:
        # Pass verified_email=False for someone who hasn't confirmed their address yet.
        if create:
            EmailAddress.objects.create(
                user=obj, email=obj.email, primary=True, verified=extracted is not False
            )

    @factory.post_generation
    def mfa(obj: User, create: bool, extracted: bool | None, **kwargs) -> None:
        # Therapists and staff get an authenticator app unless mfa=False; partners only if asked.
        wanted = (obj.is_therapist or obj.is_staff) if extracted is None else extracted
        if create and wanted:
            give_mfa(obj)


class TherapistFactory(UserFactory):
    """A therapist whom staff have verified."""

    email = factory.Sequence(lambda n: f"therapist{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Dr. Therapist {n}")
    kind = User.Kind.THERAPIST
    therapist_verified_at = factory.LazyFunction(timezone.now)


class UnverifiedTherapistFactory(TherapistFactory):
    therapist_verified_at = None


class StaffFactory(UserFactory):
    email = factory.Sequence(lambda n: f"staff{n}@example.com")
    display_name = factory.Sequence(lambda n: f"Staff {n}")
    is_staff = True


class CoupleFactory(factory.django.DjangoModelFactory):
    """A couple of two partners (made by default; pass partners=[] for none)."""

    class Meta:
        model = Couple
        skip_postgeneration_save = True

    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def partners(obj: Couple, create: bool, extracted: list[User] | None, **kwargs) -> None:
        if not create:
            return
        people = [obj.created_by, UserFactory()] if extracted is None else extracted
        for person in people:
            Membership.objects.create(couple=obj, user=person)


def make_couple(a: User | None = None, b: User | None = None) -> tuple[Couple, User, User]:
    """A paired couple; returns (couple, a, b) with a as the one who started it. Neither has
    answered the safety questions yet (see screen)."""
    a = a or UserFactory()
    b = b or UserFactory()
    couple = CoupleFactory(created_by=a, partners=[a, b])
    return couple, a, b


def _couple_waiting_for_partner() -> Couple:
    person = UserFactory()
    return CoupleFactory(created_by=person, partners=[person])


class InvitationFactory(factory.django.DjangoModelFactory):
    """A bare invitation row with a random hash: nobody knows its token (see make_invitation)."""

    class Meta:
        model = Invitation

    couple = factory.LazyFunction(_couple_waiting_for_partner)
    invited_by = factory.SelfAttribute("couple.created_by")
    token_hash = factory.Sequence(lambda n: f"{n:064x}")
    expires_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


def make_invitation(
    user: User | None = None, *, couple: Couple | None = None, email: str = ""
) -> tuple[Invitation, str]:
    """A pending invitation to `user`'s couple and its raw token, via services.invitation_issue.

    With no user, a new partner is made; with no couple, the user's active couple is used,
    or a couple of one (the user, waiting for a partner) is started.
    """
    user = user or UserFactory()
    couple = couple or selectors.couple_for(user=user)
    if couple is None:
        couple = CoupleFactory(created_by=user, partners=[user])
    issued = services.invitation_issue(user=user, couple=couple, email=email)
    return issued.invitation, issued.token


def screen(person: User, *, concern: bool = False, ready: bool = True):
    """The person answers the safety questions (with or without a concern) and, unless
    ready=False, says they're ready to start: both partners must, before a dialogue starts."""
    answers = {"afraid": "often" if concern else "no", "hurt": "no", "crisis": "no"}
    screening = safety_services.screening_save(user=person, answers=answers)
    if ready:
        screening = safety_services.screening_set_ready(user=person, ready=True)
    return screening


def put_in_state(person: User, state: str) -> None:
    """Screen the person into one of the states of the start gate: not_started,
    calm_not_ready, concern_not_ready, concern_ready or ready."""
    if state == "not_started":
        return
    screen(person, concern=state.startswith("concern"), ready=state in ("concern_ready", "ready"))


def link_with_consent(therapist: User, first: User, second: User | None = None):
    """The code flow: the therapist makes a code, `first` enters it, `second` consents."""
    link = therapist_services.link_code_issue(therapist=therapist, token=form_token())
    link = therapist_services.link_code_redeem(user=first, code=link.code)
    if second is not None:
        link = therapist_services.consent_give(user=second, link_public_id=link.public_id)
    link.refresh_from_db()
    return link


# The plan every workshop test uses: a teach segment, then two practices.
WORKSHOP_PLAN = [("teach", "Mirroring", ""), ("practise", "", "intentional"),
                 ("practise", "", "appreciation")]  # fmt: skip


def make_workshop(presenter: User, *, minutes: int = 10) -> Workshop:
    """ "Getting the Love You Want", starting now, with `WORKSHOP_PLAN` (practices of
    `minutes`)."""
    workshop = workshop_services.workshop_create(
        presenter=presenter,
        title="Getting the Love You Want",
        starts_at=clock.now(),
        stream_url="",
        token=form_token(),
    )
    for kind, text, dialogue_kind in WORKSHOP_PLAN:
        workshop_services.segment_add(
            workshop=workshop,
            kind=kind,
            text=text,
            dialogue_kind=dialogue_kind,
            minutes=minutes if kind == "practise" else None,
            token=form_token(),
        )
    return workshop


def joined(workshop: Workshop, *people: User, present: bool = True) -> Attendance:
    """Each of `people` joins with the code and, unless present=False, opens the page."""
    attendance = None
    for person in people:
        attendance = workshop_services.workshop_join(user=person, code=workshop.code)
        if present:
            workshop_services.presence_set(
                user=person, workshop_public_id=workshop.public_id, present=True
            )
    assert attendance is not None
    attendance.refresh_from_db()
    return attendance


def practise(workshop: Workshop) -> Segment:
    """The plan's first practice (its second segment)."""
    return workshop.segments.get(position=2)
