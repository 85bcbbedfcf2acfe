import pytest
from allauth.account.models import EmailAddress
from django.core.management import call_command
from django.urls import reverse

from couples import selectors
from couples.models import Couple, Membership, User
from therapists import selectors as therapist_selectors
from therapists.management.commands.load_demo_data import DEMO_PASSWORD
from therapists.models import Consent, TherapistLink

pytestmark = pytest.mark.django_db


def load() -> str:
    from io import StringIO

    out = StringIO()
    call_command("load_demo_data", stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    models = (User, EmailAddress, Couple, Membership, TherapistLink, Consent)
    return {model.__name__: model.objects.count() for model in models}


def test_it_makes_a_paired_couple_and_a_verified_therapist():
    load()
    alex = User.objects.get(email="alex@example.com")
    sam = User.objects.get(email="sam@example.com")
    rivera = User.objects.get(email="dr.rivera@example.com")
    assert selectors.partner_of(user=alex) == sam
    assert selectors.partner_of(user=sam) == alex
    assert rivera.is_verified_therapist
    assert selectors.couple_for(user=rivera) is None
    for user in (alex, sam, rivera):
        assert user.check_password(DEMO_PASSWORD)
        address = EmailAddress.objects.get(user=user)
        assert address.verified and address.primary and address.email == user.email


def test_it_prints_how_to_log_in():
    out = load()
    assert f"password for all: {DEMO_PASSWORD}" in out
    for line in ("Alex", "alex@example.com", "sam@example.com", "dr.rivera@example.com"):
        assert line in out
    # What each will meet first, so nobody is surprised by it.
    assert "Dr. Rivera sets up two-factor authentication at the first log-in" in out
    assert "Alex and Sam each answer a few private questions before their first dialogue" in out


def test_what_it_prints_is_true(client):
    from safety import selectors as safety_selectors

    load()
    alex = User.objects.get(email="alex@example.com")
    assert safety_selectors.screening_state(user=alex) == "not_started"
    rivera = User.objects.get(email="dr.rivera@example.com")
    client.post("/accounts/login/", {"login": rivera.email, "password": DEMO_PASSWORD})
    assert client.get("/")["Location"] == reverse("mfa_activate_totp")


def test_it_changes_nothing_the_second_time():
    load()
    first = row_counts()
    assert first == {
        "User": 3,
        "EmailAddress": 3,
        "Couple": 1,
        "Membership": 2,
        "TherapistLink": 1,
        "Consent": 2,
    }
    load()
    assert row_counts() == first


def test_the_demo_people_can_log_in(client):
    load()
    response = client.post(
        "/accounts/login/", {"login": "alex@example.com", "password": DEMO_PASSWORD}
    )
    assert response["Location"] == "/"
    assert "You're paired with Sam" in client.get("/").content.decode().replace("&#x27;", "'")


def test_the_demo_therapist_is_linked_to_the_demo_couple_with_both_consents():
    load()
    alex = User.objects.get(email="alex@example.com")
    rivera = User.objects.get(email="dr.rivera@example.com")
    couple = selectors.couple_for(user=alex)
    link = therapist_selectors.therapist_access_link(therapist=rivera, couple_id=couple.pk)
    assert link is not None and link.is_active
    assert {c.partner.email for c in link.consents.all()} == {"alex@example.com", "sam@example.com"}


def test_a_second_run_verifies_the_demo_therapist_again_and_relinks_after_an_end(superuser):
    from couples import services

    load()
    rivera = User.objects.get(email="dr.rivera@example.com")
    services.therapist_unverify(therapist=rivera, by=superuser, reason="demo")
    load()
    rivera.refresh_from_db()
    assert rivera.is_verified_therapist
    couple = selectors.couple_for(user=User.objects.get(email="alex@example.com"))
    assert (
        therapist_selectors.therapist_access_link(therapist=rivera, couple_id=couple.pk) is not None
    )
    assert TherapistLink.objects.filter(status="active").count() == 1
