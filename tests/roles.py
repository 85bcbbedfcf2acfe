"""Role fixtures for the security tests, built on tests/dialogues/conftest.py's people."""

import pytest
from django.test import Client

from couples.models import User
from tests.dialogues.conftest import (  # noqa: F401 - fixtures, re-exported
    alex,
    dialogue,
    make_couple,
    make_person,
    outsider,
    pair,
    sam,
    single,
    staff,
    therapist,
)
from tests.mfa import give_mfa


@pytest.fixture
def unverified_therapist(db) -> User:
    person = make_person("new.dr@example.com", "Dr. New", kind=User.Kind.THERAPIST)
    give_mfa(person)
    return person


@pytest.fixture
def superuser(db) -> User:
    person = User.objects.create_superuser(
        email="root@example.com", password="correct-horse-battery", display_name="Root"
    )
    give_mfa(person)
    return person


@pytest.fixture
def as_(alex, sam, outsider, therapist, unverified_therapist, staff, single):  # noqa: F811
    people = {
        "alex": alex,
        "sam": sam,
        "outsider": outsider,
        "therapist": therapist,
        "unverified_therapist": unverified_therapist,
        "staff": staff,
        "single": single,
    }

    def client_for(who: str | User | None) -> Client:
        client = Client()
        person = people.get(who) if isinstance(who, str) else who
        if person is not None:
            client.force_login(person)
        return client

    return client_for
