"""Bad input gets a clear 4xx with nothing saved, never a 500 (issue 12, defect 7).

- A NUL byte is never part of an id, a token or anything a person types. PostgreSQL refuses
  it in text outright (a 500 on every route that looked an id up); SQLite stores it. Every
  request carrying one, in its address, its query or its form, is refused with a 400 before
  any view sees it: these tests expect exactly that on both databases.
- Ten identical sign-ups at the same moment: one account, the others answered as allauth
  answers a sign-up with an address already taken (no 500, nothing saved twice).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from couples.models import User
from dialogues import services as dialogue_services
from dialogues.models import Turn
from safety import services as safety_services
from tests.helpers import at_once, form_token

NUL = "x\x00y"
CALM = {"afraid": "no", "hurt": "no", "crisis": "no"}


def routes(resolver: URLResolver | None = None, namespace: str = "") -> Iterator[tuple[str, list]]:
    """(name, parameter names) of every named route of ours and allauth's, not the admin's."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            if entry.app_name == "admin":
                continue
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from routes(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield f"{namespace}{entry.name}", list(entry.pattern.regex.groupindex)


def url_with_nul(name: str, params: list[str]) -> str:
    """The route with a NUL byte in its last parameter (the others plain)."""
    url = reverse(name, kwargs={p: "1" for p in params[:-1]} | {params[-1]: "zzNULzz"})
    return url.replace("zzNULzz", "x%00y")


ROUTES_WITH_IDS = sorted((name, params) for name, params in routes() if params)
ALL_ROUTES = sorted(routes())


def test_the_routes_with_ids_are_all_here():
    names = {name for name, _ in ROUTES_WITH_IDS}
    assert len(names) >= 19
    assert {"dialogues:detail", "therapists:couple", "couples:invitation"} <= names


def screened(*people: User) -> None:
    for person in people:
        safety_services.screening_save(user=person, answers=CALM)
        safety_services.screening_set_ready(user=person, ready=True)


@pytest.fixture
def people(client_as, alex, therapist, staff) -> dict[str, Client]:
    return {
        "partner": client_as(alex),
        "therapist": client_as(therapist),
        "staff": client_as(staff),
        "anonymous": client_as(None),
    }


@pytest.mark.parametrize("name,params", ROUTES_WITH_IDS, ids=[n for n, _ in ROUTES_WITH_IDS])
def test_a_nul_byte_in_an_id_is_a_400_for_everyone(people, name, params):
    url = url_with_nul(name, params)
    assert "%00" in url
    answers = {}
    for who, client in people.items():
        for method in ("get", "post"):
            try:
                answers[who, method] = getattr(client, method)(url).status_code
            except Exception as error:  # what a 500 is in the test client
                answers[who, method] = type(error).__name__
    assert set(answers.values()) == {400}, (url, answers)


@pytest.mark.parametrize("name,params", ALL_ROUTES, ids=[n for n, _ in ALL_ROUTES])
def test_a_nul_byte_in_a_query_or_a_form_is_a_400_on_every_route(people, name, params):
    url = reverse(name, kwargs={p: "1" for p in params}) if params else reverse(name)
    for client in people.values():
        assert client.get(url, {"q": NUL}).status_code == 400, url
        assert client.get(url, {NUL: "1"}).status_code == 400, url
        assert client.post(url, {"text": NUL, "token": "t"}).status_code == 400, url


def test_the_admin_refuses_a_nul_byte_too(client_as, staff):
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(*Permission.objects.filter(codename="view_user"))
    client = client_as(User.objects.get(pk=staff.pk))
    assert client.get(reverse("admin:couples_user_changelist"), {"q": NUL}).status_code == 400
    assert client.get("/admin/couples/user/1%00/change/").status_code == 400


def test_a_nul_byte_in_a_moves_text_or_token_saves_nothing(pair, alex, sam, client_as):
    screened(alex, sam)
    session = dialogue_services.dialogue_start(user=alex, kind="intentional", topic="Us")
    dialogue_services.move_submit(
        session_public_id=session.public_id, user=sam, move="accept_now", token=form_token()
    )
    url = reverse("dialogues:move", args=[session.public_id])
    client = client_as(alex)
    turns = Turn.objects.count()
    for data in (
        {"move": "send", "text": "I felt \x00 alone", "token": "tok-1"},
        {"move": "send", "text": "I felt alone", "token": "tok-\x00"},
        {"move": "send\x00", "text": "I felt alone", "token": "tok-2"},
    ):
        for htmx in ({}, {"HTTP_HX_REQUEST": "true"}):
            response = client.post(url, data, **htmx)
            assert response.status_code == 400, data
    assert Turn.objects.count() == turns
    # The same move without the NUL byte is saved: the route really saves.
    response = client.post(url, {"move": "send", "text": "I felt alone", "token": "tok-3"})
    assert response.status_code == 302
    assert Turn.objects.count() == turns + 1


def test_a_nul_byte_in_a_sign_up_saves_no_one(db, client):
    response = client.post(
        reverse("account_signup"),
        {
            "display_name": "Nul\x00l",
            "email": "nul@example.com",
            "password1": "a-long-enough-passphrase",
            "password2": "a-long-enough-passphrase",
        },
    )
    assert response.status_code == 400
    assert not User.objects.filter(email="nul@example.com").exists()


# --- ten sign-ups at the same moment ---------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_ten_identical_sign_ups_at_once_make_one_account_and_no_500():
    form = {
        "display_name": "Rae",
        "email": "rae@example.com",
        "password1": "a-long-enough-passphrase",
        "password2": "a-long-enough-passphrase",
    }

    def sign_up():
        return Client().post(reverse("account_signup"), form)

    results = at_once(*[sign_up for _ in range(10)])
    errors = [r for r in results if isinstance(r, BaseException)]
    assert errors == []
    assert [r.status_code for r in results if r.status_code >= 500] == []
    assert User.objects.filter(email="rae@example.com").count() == 1
    assert EmailAddress.objects.filter(email="rae@example.com").count() == 1
    # Each is told what any sign-up is told (enter the code we emailed you); one that comes
    # after the account was saved is a repeated sign-up, which allauth may ask to wait (429).
    answers = [(r.status_code, r.get("Location")) for r in results]
    assert (302, reverse("account_email_verification_sent")) in answers
    assert set(answers) <= {(302, reverse("account_email_verification_sent")), (429, None)}
    for response in results:
        if response.status_code == 429:
            assert b"Please wait a few minutes" in response.content
