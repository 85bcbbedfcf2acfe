"""People for dialogue tests: a paired couple (Alex starts, Sam answers) and outsiders."""

import pytest

from couples.models import Couple, Membership, User
from dialogues import services
from safety import services as safety_services
from tests.mfa import give_mfa


def make_person(email: str, name: str, **extra) -> User:
    return User.objects.create_user(
        email=email, password="correct-horse-battery", display_name=name, **extra
    )


def make_couple(a: User, b: User, *, ready: bool = True) -> Couple:
    """Two partners paired; unless ready=False, both answered the safety questions (no
    concerns) and said they're ready, so a dialogue may start."""
    couple = Couple.objects.create(created_by=a)
    Membership.objects.create(couple=couple, user=a)
    Membership.objects.create(couple=couple, user=b)
    if ready:
        for person in (a, b):
            screen(person)
    return couple


def screen(person: User, *, concern: bool = False, ready: bool = True):
    """The person answers the safety questions (with or without a concern) and decides."""
    answers = {"afraid": "often" if concern else "no", "hurt": "no", "crisis": "no"}
    screening = safety_services.screening_save(user=person, answers=answers)
    if ready:
        screening = safety_services.screening_set_ready(user=person, ready=True)
    return screening


@pytest.fixture
def alex(db) -> User:
    return make_person("alex@example.com", "Alex")


@pytest.fixture
def sam(db) -> User:
    return make_person("sam@example.com", "Sam")


@pytest.fixture
def pair(alex, sam) -> Couple:
    return make_couple(alex, sam)


@pytest.fixture
def outsider(db) -> User:
    """A partner in another couple."""
    o = make_person("olly@example.com", "Olly")
    make_couple(o, make_person("pat@example.com", "Pat"))
    return o


@pytest.fixture
def dialogue(pair, alex):
    return services.dialogue_start(user=alex, kind="intentional", topic="Sunday mornings")


@pytest.fixture
def therapist(db) -> User:
    from django.utils import timezone

    person = make_person(
        "dr@example.com",
        "Dr. Rivera",
        kind=User.Kind.THERAPIST,
        therapist_verified_at=timezone.now(),
    )
    give_mfa(person)  # required of therapists and staff
    return person


@pytest.fixture
def staff(db) -> User:
    person = make_person("staff@example.com", "Staff", is_staff=True)
    give_mfa(person)
    return person


@pytest.fixture
def single(db) -> User:
    return make_person("solo@example.com", "Solo")


@pytest.fixture
def people(alex, sam, outsider, therapist, staff, single):
    return {
        "alex": alex,
        "sam": sam,
        "outsider": outsider,
        "therapist": therapist,
        "staff": staff,
        "single": single,
        "anonymous": None,
    }
