"""Friendly error pages (issue 12, defect 7): 400, 403, 404, 429 and 500 are our own calm
pages with the site's look, the quick exit and a link home, never Django's bare ones.

Django renders 400 and 500 without the request (no user, no CSRF token, no context
processors): the pages need none of that, and the 500 page reads nothing from the database.
With DEBUG off, as in production (tests run with DEBUG off; it is set again here).
"""

from __future__ import annotations

import re

import pytest
from csp.utils import build_policy
from django.template import loader
from django.test import Client
from django.urls import path

import imago_site.urls


def boom(request):
    raise RuntimeError("something broke")


def redis_away(request):
    import redis.exceptions

    raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:6379.")


# This module is also the URLconf of the 500 test: the site's own routes plus two that break.
urlpatterns = [path("boom/", boom), path("redis-away/", redis_away), *imago_site.urls.urlpatterns]
handler500 = imago_site.urls.handler500


@pytest.fixture(autouse=True)
def _production(settings):
    settings.DEBUG = False


def assert_friendly(response, status: int, heading: str) -> str:
    assert response.status_code == status
    body = response.content.decode()
    assert f"<h1>{heading}</h1>" in body
    assert 'href="/"' in body and "Go to your home page" in body
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in body
    assert re.search(r'<link rel="stylesheet" href="/static/css/imago\.css">', body)
    assert "data-quick-exit" in body  # Exit works here too
    # Nothing inline (the CSP allows none), no CSRF token, nothing about the error itself.
    assert "<style" not in body and " style=" not in body
    assert all("src=" in attrs for attrs in re.findall(r"<script\b([^>]*)>", body))
    assert "csrf" not in body.lower() and "Traceback" not in body
    assert response["Content-Security-Policy"] == build_policy()
    return body


@pytest.mark.parametrize("who", [None, "alex"])
def test_a_missing_page_gets_the_friendly_404(client_as, user_in_role, who):
    client = client_as(user_in_role(who) if who else None)
    response = client.get("/no-such-page/")
    assert "404.html" in [t.name for t in response.templates]
    body = assert_friendly(response, 404, "We couldn't find that page")
    assert "/no-such-page/" not in body  # the page doesn't echo the address back


def test_a_dialogue_that_isnt_yours_gets_the_same_404(client_as, outsider):
    response = client_as(outsider).get("/dialogues/AAAAAAAAAAAAAAAAAAAAAA/")
    assert_friendly(response, 404, "We couldn't find that page")


@pytest.mark.urls(__name__)
def test_an_error_in_a_view_gets_the_friendly_500(db):
    response = Client(raise_request_exception=False).get("/boom/")
    assert "500.html" in [t.name for t in response.templates]
    body = assert_friendly(response, 500, "Something went wrong on our side")
    assert "something broke" not in body and "RuntimeError" not in body


@pytest.mark.urls(__name__)
def test_redis_unreachable_gets_a_calm_503_that_says_to_try_again_in_seconds(db):
    response = Client(raise_request_exception=False).get("/redis-away/")
    assert "503.html" in [t.name for t in response.templates]
    body = assert_friendly(response, 503, "Part of Imago is restarting")
    assert "Nothing you saved is lost." in body and "try again in a few seconds" in body
    assert response["Retry-After"] == "5"
    assert "6379" not in body and "ConnectionError" not in body


def test_the_500_page_needs_no_request_and_no_database(db, django_assert_num_queries):
    with django_assert_num_queries(0):
        body = loader.get_template("500.html").render()
    assert "Something went wrong on our side" in body


def test_a_bad_request_gets_the_friendly_400(client):
    response = client.get("/", {"q": "\x00"})
    assert "400.html" in [t.name for t in response.templates]
    body = assert_friendly(response, 400, "We couldn't accept that")
    assert "nothing was saved" in body


def test_a_refusal_gets_the_friendly_403(client_as, alex):
    response = client_as(alex).get("/admin/", follow=True)
    assert "403.html" in [t.name for t in response.templates]
    assert_friendly(response, 403, "This page isn't open to you")
