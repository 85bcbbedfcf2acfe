"""Logins and failed logins go to the audit trail; failed logins are throttled."""

from django.urls import reverse

from couples.signals import attempted_account
from security.models import AuditEvent
from tests.factories import PASSWORD


def log_in(client, email, password, ip="198.51.100.7"):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip
    )


def test_it_records_a_login_with_the_address(alex, client_as):
    response = log_in(client_as(None), alex.email, PASSWORD)
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="auth.login")
    assert event.actor == alex and event.ip_address == "198.51.100.7"
    assert event.target_id == alex.public_id


def test_it_records_a_failed_login_without_the_address_typed(alex, client_as):
    log_in(client_as(None), "Alex@Example.com", "wrong password here")
    event = AuditEvent.objects.get(action="auth.login_failed")
    assert event.actor is None and event.actor_email == ""
    assert event.ip_address == "198.51.100.7"
    assert event.details == {"account": attempted_account("alex@example.com")}
    assert "example.com" not in str(event.details) and "alex" not in str(event.details)


def test_the_attempted_account_hash_is_keyed_and_stable(settings):
    first = attempted_account("a@example.com")
    assert first == attempted_account(" A@example.com ") and len(first) == 16
    settings.SECRET_KEY = "another-secret-key-for-this-test-only"
    assert attempted_account("a@example.com") != first


def test_it_records_a_logout(client_as, alex):
    client = client_as(alex)
    client.post(reverse("account_logout"))
    assert AuditEvent.objects.filter(action="auth.logout", actor=alex).exists()


def test_repeated_failed_logins_are_refused_even_with_the_right_password(alex, client_as):
    client = client_as(None)
    for _ in range(5):
        response = log_in(client, alex.email, "wrong password here")
        assert response.status_code == 200
    response = log_in(client, alex.email, PASSWORD)
    assert response.status_code == 200
    assert "Too many failed login attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action="auth.login").exists()


def test_the_throttle_is_per_account(alex, sam, client_as):
    client = client_as(None)
    for _ in range(5):
        log_in(client, alex.email, "wrong password here")
    assert log_in(client, sam.email, PASSWORD).status_code == 302


def test_many_failures_from_one_address_are_refused(alex, sam, client_as):
    client = client_as(None)
    for n in range(10):
        log_in(client, f"nobody{n}@example.com", "wrong password here")
    response = log_in(client, alex.email, PASSWORD)
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
    # Another address is not affected.
    assert log_in(client_as(None), alex.email, PASSWORD, ip="203.0.113.50").status_code == 302
