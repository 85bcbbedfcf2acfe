"""An email to the person whenever their password, email address or two-factor settings change
(allauth's notifications, ACCOUNT_EMAIL_NOTIFICATIONS, in our words: templates/account/email/
base_notification.txt): sent to the right address, saying when and from which kind of device,
and never holding a password, a code, a secret or a network address."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse

from tests.conftest import TEST_BROWSER
from tests.factories import PASSWORD, StaffFactory
from tests.helpers import first_link, verification_code
from tests.mfa import give_mfa, totp_code

pytestmark = pytest.mark.django_db

NEW = "a-brand-new-passphrase"
ADDRESS = "203.0.113.44"
CHROME_ON_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


def logged_in_by_form(client, user):
    """Through the log-in form, so allauth counts it as a recent authentication (its pages
    that change an address or two-factor ask for one within 5 minutes)."""
    response = client.post(
        reverse("account_login"),
        {"login": user.email, "password": PASSWORD},
        REMOTE_ADDR=ADDRESS,
        HTTP_USER_AGENT=CHROME_ON_MAC,
    )
    assert response.status_code == 302
    mail.outbox.clear()
    return client


def reauthenticated(client) -> None:
    """allauth's two-factor pages ask for the password again, however recent the log-in."""
    response = client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    assert response.status_code == 302


def notices(to: str) -> list:
    return [m for m in mail.outbox if m.to == [to]]


def assert_reads_like_ours(message, *, to: str, subject: str, says: str, secrets=()) -> None:
    assert message.to == [to]
    assert message.subject == f"[Imago] {subject}"
    body = message.body
    assert body.startswith("Hello ")
    assert says in body
    assert "Device: Chrome on Mac" in body
    assert "http://127.0.0.1:8000/accounts/password/reset/" in body
    assert "http://127.0.0.1:8000/accounts/sessions/" in body
    assert body.rstrip().endswith("Imago")
    for secret in (PASSWORD, NEW, ADDRESS, *secrets):
        assert secret not in body, secret
    assert "{%" not in body and "{{" not in body


def post(client, url, data):
    return client.post(url, data, REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=CHROME_ON_MAC)


def test_a_changed_password_is_emailed(client, alex):
    logged_in_by_form(client, alex)
    response = post(
        client,
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW, "password2": NEW},
    )
    assert response.status_code == 302
    [message] = mail.outbox
    assert_reads_like_ours(
        message, to=alex.email, subject="Your password was changed", says="Hello Alex,"
    )
    assert "password of your Imago account was just changed" in message.body


def test_a_reset_password_is_emailed(client, alex):
    client.post(reverse("account_reset_password"), {"email": alex.email})
    link = first_link(mail.outbox[0].body).removeprefix("http://testserver")
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    mail.outbox.clear()
    response = post(client, form_url, {"password1": NEW, "password2": NEW})
    assert response.status_code == 302
    [message] = mail.outbox
    assert_reads_like_ours(
        message,
        to=alex.email,
        subject="Your password was reset",
        says="was just reset",
        secrets=[link.rstrip("/").rsplit("/", 1)[-1]],
    )


def test_an_added_address_is_emailed_to_the_main_one(client, alex):
    logged_in_by_form(client, alex)
    post(client, reverse("account_email"), {"email": "alex.new@example.com", "action_add": ""})
    assert notices(alex.email) == []  # nothing added until the new address is confirmed
    [code_email] = notices("alex.new@example.com")  # allauth's confirmation code, as before
    response = post(
        client,
        reverse("account_email_verification_sent"),
        {"code": verification_code(code_email.body)},
    )
    assert response.status_code == 302
    assert EmailAddress.objects.filter(user=alex, email="alex.new@example.com").exists()
    [notice] = notices(alex.email)
    assert_reads_like_ours(
        notice,
        to=alex.email,
        subject="An email address was added to your account",
        says="The address alex.new@example.com was just added",
    )
    assert len(notices("alex.new@example.com")) == 1  # only its code


def test_a_changed_main_address_is_emailed_to_the_old_one(client, alex):
    logged_in_by_form(client, alex)
    EmailAddress.objects.create(user=alex, email="alex.new@example.com", verified=True)
    post(client, reverse("account_email"), {"email": "alex.new@example.com", "action_primary": ""})
    [notice] = notices("alex@example.com")
    assert_reads_like_ours(
        notice,
        to="alex@example.com",
        subject="Your email address was changed",
        says="from alex@example.com to alex.new@example.com",
    )
    assert notices("alex.new@example.com") == []


def test_a_removed_address_is_emailed(client, alex):
    logged_in_by_form(client, alex)
    EmailAddress.objects.create(user=alex, email="alex.old@example.com", verified=True)
    post(client, reverse("account_email"), {"email": "alex.old@example.com", "action_remove": ""})
    [notice] = notices(alex.email)
    assert_reads_like_ours(
        notice,
        to=alex.email,
        subject="An email address was removed from your account",
        says="The address alex.old@example.com was just removed",
    )


@pytest.mark.django_db(transaction=True)  # allauth sends these once the change commits
def test_turning_two_factor_on_and_off_is_emailed_without_the_secret(client, alex):
    logged_in_by_form(client, alex)
    reauthenticated(client)
    client.get(reverse("mfa_activate_totp"))
    secret = client.session["mfa.totp.secret"]
    response = post(client, reverse("mfa_activate_totp"), {"code": totp_code(secret)})
    assert response.status_code == 302
    [on] = mail.outbox
    assert_reads_like_ours(
        on,
        to=alex.email,
        subject="Two-factor authentication is on",
        says="turned on for your Imago account",
        secrets=[secret],
    )
    mail.outbox.clear()
    response = post(client, reverse("mfa_deactivate_totp"), {})
    assert response.status_code == 302
    assert not Authenticator.objects.filter(user=alex, type="totp").exists()
    [off] = mail.outbox
    assert_reads_like_ours(
        off,
        to=alex.email,
        subject="Two-factor authentication is off",
        says="turned off for your Imago account",
        secrets=[secret],
    )


@pytest.mark.django_db(transaction=True)
def test_new_recovery_codes_are_emailed_without_the_codes(client):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    staff = StaffFactory(mfa=False, email="stan@example.com", display_name="Stan")
    secret = give_mfa(staff)
    client.post(
        reverse("account_login"),
        {"login": staff.email, "password": PASSWORD},
        REMOTE_ADDR=ADDRESS,
        HTTP_USER_AGENT=CHROME_ON_MAC,
    )
    client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)}, REMOTE_ADDR=ADDRESS)
    reauthenticated(client)
    mail.outbox.clear()
    response = post(client, reverse("mfa_generate_recovery_codes"), {})
    assert response.status_code == 302
    codes = RecoveryCodes(Authenticator.objects.get(user=staff, type="recovery_codes"))
    [message] = mail.outbox
    assert_reads_like_ours(
        message,
        to=staff.email,
        subject="New recovery codes for your account",
        says="New recovery codes were just made",
        secrets=[secret, *codes.get_unused_codes()],
    )


def test_a_change_from_an_unknown_browser_still_reads_well(client, alex):
    logged_in_by_form(client, alex)
    client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW, "password2": NEW},
        HTTP_USER_AGENT="",
    )
    [message] = mail.outbox
    assert "Device: An unknown browser" in message.body
    assert TEST_BROWSER not in message.body
