"""couples.http.next_path: the one rule for following a next/return address a person could
have typed — a path on this site, else the safe default — on every form that follows one."""

from __future__ import annotations

import pytest
from django.urls import reverse

from couples.http import MAX_NEXT, next_path
from tests.factories import PASSWORD

NOT_PATHS = [
    "abc",  # a bare word: redirect() would try it as a view name (NoReverseMatch, a 500)
    "home",
    "couples:devices",
    "//evil.example",
    "//evil.example/path",
    "/\\evil.example",
    "https://evil.example/",
    "http:/evil.example",
    "javascript:alert(1)",
    "ok/path",
    "/ok\x00/path",
    "/ok\r\nSet-Cookie: x=1",
    "/" + "a" * MAX_NEXT,
    "",
    None,
]


@pytest.mark.parametrize("url", NOT_PATHS)
def test_anything_but_a_path_on_this_site_goes_to_the_default(url):
    assert next_path(url, default="/") == "/"


@pytest.mark.parametrize("url", ["/", "/ok/path", "/accounts/login/?next=/", "/a?b=c#d"])
def test_a_path_on_this_site_is_followed(url):
    assert next_path(url, default="/home-default/") == url


@pytest.mark.parametrize("url", [u for u in NOT_PATHS if u is not None and "\x00" not in u])
def test_the_language_chooser_never_follows_anything_but_a_path(client, url):
    response = client.post(reverse("couples:language"), {"language": "es", "next": url})
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_the_language_chooser_follows_a_path(client):
    response = client.post(reverse("couples:language"), {"language": "es", "next": "/ok/path"})
    assert response["Location"] == "/ok/path"


def test_the_language_chooser_refuses_a_nul_byte_without_a_500(client):
    response = client.post(reverse("couples:language"), {"language": "es", "next": "/a\x00b"})
    assert response.status_code == 400


@pytest.mark.parametrize("url", ["abc", "//evil.example", "https://evil.example/", "/\\evil"])
def test_logging_in_never_follows_anything_but_a_path(client_as, alex, url):
    response = client_as(None).post(
        reverse("account_login"), {"login": alex.email, "password": PASSWORD, "next": url}
    )
    assert response.status_code == 302
    assert response["Location"] == "/"
