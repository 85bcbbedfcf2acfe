"""Accounts through allauth: sign up, verify the email by code, log in and out, reset."""

import re

import pytest
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.urls import reverse

from couples.models import User
from tests.factories import PASSWORD, UserFactory, make_couple, make_invitation
from tests.helpers import first_link, text_of, verification_code
from tests.mfa import give_mfa

pytestmark = pytest.mark.django_db

SIGNUP = reverse("account_signup")
LOGIN = reverse("account_login")
LOGOUT = reverse("account_logout")
CONFIRM = reverse("account_email_verification_sent")
RESET = reverse("account_reset_password")


def sign_up(client, *, email="newt@example.com", name="Newt", therapist=False, next_path=""):
    data = {
        "display_name": name,
        "email": email,
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    if therapist:
        data["is_therapist"] = "on"
    url = f"{SIGNUP}?next={next_path}" if next_path else SIGNUP
    return client.post(url, data)


def logged_in(client) -> bool:
    return SESSION_KEY in client.session


def enter_code(client, email="newt@example.com"):
    [message] = [m for m in mail.outbox if m.to == [email]][-1:]
    return client.post(CONFIRM, {"code": verification_code(message.body)})


def test_it_asks_for_name_email_passwords_and_therapist(client):
    response = client.get(SIGNUP)
    html = response.content.decode()
    assert response.status_code == 200
    names = re.findall(r'<input[^>]+name="(\w+)"', html)
    fields = [n for n in names if n not in ("csrfmiddlewaretoken", "next")]
    assert fields == ["display_name", "email", "password1", "password2", "is_therapist"]
    text = text_of(response)
    assert "Your name" in text and "I'm a therapist" in text
    assert "How your partner (and therapist) will see you." in text


def test_it_signs_up_a_partner_who_must_verify_their_email(client):
    response = sign_up(client, email="Newt@Example.com")
    assert response.status_code == 302
    assert response["Location"] == CONFIRM
    user = User.objects.get()
    assert user.email == "newt@example.com"
    assert user.display_name == "Newt"
    assert user.kind == User.Kind.PARTNER
    assert not user.emailaddress_set.get().verified
    assert not logged_in(client)
    [message] = mail.outbox
    assert message.to == ["newt@example.com"]
    assert message.subject.startswith("[Imago] ")
    assert "Please enter it in your open browser window." in message.body
    # It greets from the product, not from the host name the request came in on.
    assert message.body.startswith("Hello from Imago,")


def test_it_logs_in_once_the_code_is_entered(client):
    sign_up(client)
    response = enter_code(client)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in(client)
    user = User.objects.get()
    assert user.emailaddress_set.get().verified
    assert "Hello, Newt" in text_of(client.get("/"))


def test_it_refuses_a_wrong_code(client):
    sign_up(client)
    response = client.post(CONFIRM, {"code": "WRONG-CODE"})
    assert response.status_code == 200
    assert "Incorrect code." in text_of(response)
    assert not logged_in(client)
    assert not User.objects.get().emailaddress_set.get().verified


def test_it_signs_up_a_therapist_unverified(client):
    sign_up(client, email="dr.new@example.com", name="Dr. New", therapist=True)
    user = User.objects.get()
    assert user.kind == User.Kind.THERAPIST
    assert user.therapist_verified_at is None
    assert not user.is_verified_therapist
    enter_code(client, "dr.new@example.com")
    # Therapists set up two-factor authentication before reaching any page.
    assert "/accounts/2fa/" in client.get("/")["Location"]
    give_mfa(user)
    text = text_of(client.get("/"))
    assert "Waiting for verification." in text
    assert "Start our couple" not in text


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"display_name": ""}, "This field is required."),
        ({"display_name": "   "}, "This field is required."),
        ({"email": "not-an-email"}, "Enter a valid email address."),
        ({"password2": "something-else-entirely"}, "You must type the same password each time."),
        ({"password1": "short", "password2": "short"}, "This password is too short."),
    ],
)
def test_it_explains_bad_sign_ups_and_makes_no_account(client, changes, message):
    data = {
        "display_name": "Newt",
        "email": "newt@example.com",
        "password1": PASSWORD,
        "password2": PASSWORD,
    } | changes
    response = client.post(SIGNUP, data)
    assert response.status_code == 200
    assert message in text_of(response)
    assert not User.objects.exists()
    assert mail.outbox == []


def test_it_makes_no_second_account_for_a_known_email(client):
    UserFactory(email="newt@example.com", display_name="Original")
    sign_up(client, email="NEWT@example.com", name="Impostor")
    assert User.objects.get().display_name == "Original"
    assert not logged_in(client)


def test_it_stores_passwords_with_argon2(client, settings):
    from imago_site import settings as real_settings

    settings.PASSWORD_HASHERS = real_settings.PASSWORD_HASHERS
    assert real_settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    sign_up(client)
    user = User.objects.get()
    assert user.password.startswith("argon2$argon2id$")
    assert user.check_password(PASSWORD)
    assert PASSWORD not in user.password


def test_it_logs_in_with_email_and_password(client):
    UserFactory(email="robin@example.com", display_name="Robin")
    response = client.post(LOGIN, {"login": "Robin@Example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in(client)


def test_it_refuses_a_wrong_password(client):
    UserFactory(email="robin@example.com")
    response = client.post(LOGIN, {"login": "robin@example.com", "password": "wrong-password"})
    assert response.status_code == 200
    assert "The email address and/or password you specified are not correct." in text_of(response)
    assert not logged_in(client)


def test_it_wont_log_in_before_the_email_is_verified(client):
    UserFactory(email="robin@example.com", verified_email=False)
    response = client.post(LOGIN, {"login": "robin@example.com", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == CONFIRM
    assert not logged_in(client)
    assert client.get("/").status_code == 200
    assert "Create an account" in text_of(client.get("/"))
    enter_code(client, "robin@example.com")
    assert logged_in(client)


def test_it_returns_to_the_invitation_after_signing_up(client):
    invitation, token = make_invitation(UserFactory(display_name="Robin"))
    path = reverse("couples:invitation", args=[token])
    text = text_of(client.get(path))
    assert "Robin invites you to pair up" in text
    sign_up(client, next_path=path)
    response = enter_code(client)
    assert response["Location"] == path
    text = text_of(client.get(path))
    assert "Accept and pair up" in text
    assert "You have an invitation" in text_of(client.get("/"))
    client.post(path)
    invitation.refresh_from_db()
    assert invitation.accepted_by == User.objects.get(email="newt@example.com")


def test_it_returns_to_the_invitation_after_logging_in(client):
    _, token = make_invitation(UserFactory(display_name="Robin"))
    path = reverse("couples:invitation", args=[token])
    UserFactory(email="sasha@example.com")
    response = client.post(
        f"{LOGIN}?next={path}", {"login": "sasha@example.com", "password": PASSWORD}
    )
    assert response["Location"] == path


def test_it_logs_out_on_post(client_as):
    client = client_as(UserFactory())
    response = client.get(LOGOUT)
    assert response.status_code == 200  # a confirmation page; GET never logs out
    assert logged_in(client)
    response = client.post(LOGOUT)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert not logged_in(client)


def test_it_emails_a_password_reset_link(client):
    UserFactory(email="robin@example.com")
    response = client.post(RESET, {"email": "robin@example.com"})
    assert response.status_code == 302
    [message] = mail.outbox
    assert message.to == ["robin@example.com"]
    link = first_link(message.body)
    assert "/accounts/password/reset/key/" in link
    assert client.get(link.removeprefix("http://testserver")).status_code in (200, 302)


def test_it_resets_the_password_through_the_link(client):
    user = UserFactory(email="robin@example.com")
    client.post(RESET, {"email": "robin@example.com"})
    link = first_link(mail.outbox[0].body).removeprefix("http://testserver")
    form_url = client.get(link, follow=True).redirect_chain[-1][0]
    new = "a-brand-new-passphrase"
    response = client.post(form_url, {"password1": new, "password2": new})
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.check_password(new)


INTEGER_IN_URL = re.compile(r'(?:href|action|value)="[^"]*/\d+(?:/|"|\?)')


@pytest.mark.parametrize(
    "page",
    [
        "/",
        "/accounts/email/",
        "/accounts/password/change/",
        "/accounts/2fa/",
        "/accounts/sessions/",
        "invite",
        "waiting",
    ],
)
def test_it_puts_no_integer_ids_in_urls(client_as, page, settings):
    _, a, b = make_couple()
    waiting = UserFactory()
    _, token = make_invitation(waiting)
    if page == "waiting":
        client = client_as(waiting)
        client.post(reverse("couples:invitation_new"))
        page = "/"
    elif page == "invite":
        client = client_as(UserFactory())
        page = reverse("couples:invitation", args=[token])
    else:
        client = client_as(a)
        client_as(a)  # a second device: the devices page has its sign-out button
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assert INTEGER_IN_URL.findall(html) == []
    for user in (a, b, waiting):
        assert f"/{user.pk}/" not in html


def test_it_refuses_an_email_too_long_to_store(client):
    email = "a" * 250 + "@example.com"
    response = sign_up(client, email=email)
    assert response.status_code == 200
    assert "Please use an email address of at most 254 characters." in text_of(response)
    assert not User.objects.exists()


@pytest.mark.parametrize("how", ["sign_up", "log_in"])
def test_it_returns_to_an_invitation_opened_first_even_without_next(client, how):
    # The header's "Create an account" and "Log in" carry no ?next=: back to the invitation.
    _, token = make_invitation(UserFactory(display_name="Robin"))
    path = reverse("couples:invitation", args=[token])
    client.get(path)
    if how == "sign_up":
        sign_up(client)
        response = enter_code(client)
    else:
        UserFactory(email="sasha@example.com")
        response = client.post(LOGIN, {"login": "sasha@example.com", "password": PASSWORD})
    assert response["Location"] == path
    assert "Accept and pair up" in text_of(client.get(path))


def test_an_invitation_that_cant_be_used_doesnt_detour_the_log_in(client, pair, alex):
    # Alex is already in a couple: the invitation isn't for them, so they go home as usual.
    _, token = make_invitation(UserFactory(display_name="Robin"))
    client.get(reverse("couples:invitation", args=[token]))
    response = client.post(LOGIN, {"login": alex.email, "password": PASSWORD})
    assert response["Location"] == "/"


def test_it_says_log_in_and_create_an_account_everywhere(client):
    for url in (LOGIN, SIGNUP, "/"):
        text = text_of(client.get(url))
        assert "Sign In" not in text and "Sign Up" not in text and "sign up" not in text.lower()
        assert "Log in" in text and "Create an account" in text
