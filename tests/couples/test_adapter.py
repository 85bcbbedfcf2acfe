"""couples/adapter.py: back to the invitation after logging in (see test_views_accounts.py),
and a log-in a moment ago counts as the recent password two-factor set-up asks for."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from live import session_limits
from tests.factories import PASSWORD, TherapistFactory
from tests.mfa import give_mfa, totp_code

pytestmark = pytest.mark.django_db

LOGIN = reverse("account_login")
ACTIVATE = reverse("mfa_activate_totp")
REAUTHENTICATE = reverse("account_reauthenticate")


@pytest.fixture
def therapist_logged_in(client):
    therapist = TherapistFactory(email="dr.new@example.com", mfa=False)
    response = client.post(LOGIN, {"login": therapist.email, "password": PASSWORD})
    assert response["Location"] == "/"
    return therapist


def later(monkeypatch, seconds: float) -> None:
    at = session_limits.now() + seconds
    monkeypatch.setattr(session_limits, "now", lambda: at)


def activate(client) -> object:
    page = client.get(ACTIVATE)
    secret = re.search(r'id="authenticator_secret"[^>]*value="(\w+)"', page.content.decode())
    if secret is None:
        secret = re.search(r'value="(\w+)"[^>]*id="authenticator_secret"', page.content.decode())
    return client.post(ACTIVATE, {"code": totp_code(secret.group(1))})


def test_right_after_logging_in_two_factor_set_up_asks_no_password_again(
    client, therapist_logged_in
):
    assert client.get("/")["Location"] == ACTIVATE  # therapists must set it up first
    page = client.get(ACTIVATE)
    assert page.status_code == 200 and b"data:image/svg+xml" in page.content
    response = activate(client)
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    codes = client.get(response["Location"])
    assert codes.status_code == 200 and b"Your unused codes" in codes.content
    assert therapist_logged_in.authenticator_set.count() == 2  # the app and recovery codes


def test_a_log_in_older_than_the_timeout_asks_for_the_password_once(
    client, therapist_logged_in, monkeypatch
):
    later(monkeypatch, settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1)
    response = client.get(ACTIVATE)
    assert response.status_code == 302 and response["Location"].startswith(REAUTHENTICATE)
    response = client.post(response["Location"], {"password": PASSWORD})
    assert response["Location"] == ACTIVATE
    assert client.get(ACTIVATE).status_code == 200


def test_turning_two_factor_off_later_still_asks_for_the_password(
    client, therapist_logged_in, monkeypatch
):
    activate(client)
    later(monkeypatch, settings.ACCOUNT_REAUTHENTICATION_TIMEOUT + 1)
    response = client.get(reverse("mfa_deactivate_totp"))
    assert response.status_code == 302 and response["Location"].startswith(REAUTHENTICATE)


def test_turning_two_factor_off_right_after_logging_in_asks_again(client):
    therapist = TherapistFactory(email="dr.two@example.com", mfa=False)
    secret = give_mfa(therapist)
    response = client.post(LOGIN, {"login": therapist.email, "password": PASSWORD})
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.post(response["Location"], {"code": totp_code(secret)})["Location"] == "/"
    deactivate = reverse("mfa_deactivate_totp")
    for response in (client.get(deactivate), client.post(deactivate)):
        assert response.status_code == 302 and response["Location"].startswith(REAUTHENTICATE)
    assert therapist.authenticator_set.filter(type="totp").exists()
    # Once reauthenticated, it is turned off.
    client.post(REAUTHENTICATE, {"password": PASSWORD})
    assert client.post(deactivate).status_code == 302
    assert not therapist.authenticator_set.filter(type="totp").exists()
