"""Lockout without denial of service: failed log-ins slow down the network address they come
from, per account and in all, but an attacker who knows someone's email can't lock them out
(couples/adapter.py keys the per-account limit by account and network address)."""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD
from tests.helpers import first_link
from tests.mfa import give_mfa, totp_code

ATTACKER = "198.51.100.66"
HOME = "203.0.113.10"
REFUSED = "Too many failed login attempts"


def log_in(client, email, password, ip):
    return client.post(
        reverse("account_login"), {"login": email, "password": password}, REMOTE_ADDR=ip
    )


def attack(client, email, times=8, ip=ATTACKER) -> list[str]:
    return [log_in(client, email, "not the password", ip).content.decode() for _ in range(times)]


def test_an_attacker_who_knows_a_therapists_email_cannot_lock_them_out(therapist, client_as):
    Authenticator.objects.filter(user=therapist).delete()
    secret = give_mfa(therapist)
    pages = attack(client_as(None), therapist.email)
    assert not any(REFUSED in page for page in pages[:5])
    assert all(REFUSED in page for page in pages[5:])  # the attacker is slowed down

    # The therapist, from their own address: the password, then the second factor, and in.
    client = client_as(None)
    response = log_in(client, therapist.email, PASSWORD, HOME)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    response = client.post(
        reverse("mfa_authenticate"), {"code": totp_code(secret)}, REMOTE_ADDR=HOME
    )
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(therapist.pk)


def test_a_partner_is_not_locked_out_either(alex, client_as):
    attack(client_as(None), alex.email)
    client = client_as(None)
    assert log_in(client, alex.email, PASSWORD, HOME).status_code == 302
    assert client.session["_auth_user_id"] == str(alex.pk)


def test_the_attackers_address_stays_refused_even_with_the_right_password(alex, client_as):
    attack(client_as(None), alex.email, times=5)
    client = client_as(None)
    response = log_in(client, alex.email, PASSWORD, ATTACKER)
    assert response.status_code == 200 and REFUSED in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The real person logging in from elsewhere doesn't lift the attacker's limit.
    assert log_in(client_as(None), alex.email, PASSWORD, HOME).status_code == 302
    response = log_in(client_as(None), alex.email, PASSWORD, ATTACKER)
    assert REFUSED in response.content.decode()


def test_one_ipv6_network_counts_as_one_address(alex, client_as):
    """allauth stands an IPv6 address for its /64: rotating addresses inside one network
    doesn't reset the count."""
    client = client_as(None)
    for n in range(5):
        log_in(client, alex.email, "not the password", f"2001:db8::{n + 1}")
    response = log_in(client, alex.email, PASSWORD, "2001:db8::ffff")
    assert REFUSED in response.content.decode()
    assert log_in(client_as(None), alex.email, PASSWORD, "2001:db8:1::1").status_code == 302


def test_one_address_trying_many_accounts_is_slowed_down(alex, sam, client_as):
    client = client_as(None)
    for n in range(10):
        log_in(client, f"nobody{n}@example.com", "not the password", ATTACKER)
    response = log_in(client, sam.email, PASSWORD, ATTACKER)
    assert response.status_code in (200, 429)
    assert "_auth_user_id" not in client.session
    assert log_in(client_as(None), sam.email, PASSWORD, HOME).status_code == 302


def test_a_password_reset_lifts_the_count_for_the_address_it_came_from(alex, client_as):
    attack(client_as(None), alex.email, times=5, ip=HOME)
    assert REFUSED in log_in(client_as(None), alex.email, PASSWORD, HOME).content.decode()

    client = client_as(None)
    client.post(reverse("account_reset_password"), {"email": alex.email}, REMOTE_ADDR=HOME)
    link = first_link(mail.outbox[-1].body).removeprefix("http://testserver")
    form_url = client.get(link, follow=True, REMOTE_ADDR=HOME).redirect_chain[-1][0]
    new = "a-brand-new-passphrase"
    response = client.post(form_url, {"password1": new, "password2": new}, REMOTE_ADDR=HOME)
    assert response.status_code == 302
    assert log_in(client_as(None), alex.email, new, HOME).status_code == 302
