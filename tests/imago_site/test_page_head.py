"""What every page's <head> carries: the favicon (no 404 for /favicon.ico, so no console error)
and a meta description; the neutral exit page carries neither Imago's icon nor its name."""

import pytest
from django.contrib.staticfiles import finders
from django.template import loader
from django.urls import reverse

pytestmark = pytest.mark.django_db

ICON = '<link rel="icon" href="/static/img/favicon.svg" type="image/svg+xml"'


@pytest.mark.parametrize(
    "who,url",
    [
        (None, "/"),
        (None, reverse("account_login")),
        (None, reverse("account_signup")),
        (None, "/no-such-page/"),
        ("alex", "/"),
        ("alex", reverse("mfa_index")),
        ("therapist", reverse("therapists:dashboard")),
        ("staff", reverse("admin:index")),
    ],
)
def test_every_page_has_the_favicon_and_a_description(client_as, pair, who, url):
    body = client_as(who).get(url).content.decode()
    assert body.count(ICON) == 1, url
    assert '<meta name="description" content="' in body or reverse("admin:index") == url


@pytest.mark.parametrize("template", ["400.html", "403.html", "404.html", "429.html", "500.html"])
def test_the_error_pages_have_the_favicon_too(template):
    assert ICON in loader.get_template(template).render()


def test_the_favicon_is_an_svg():
    path = finders.find("img/favicon.svg")
    assert path is not None
    with open(path) as svg:
        text = svg.read()
    assert text.startswith("<svg") and 'viewBox="0 0 32 32"' in text


def test_the_exit_page_has_no_imago_icon(client):
    body = client.get(reverse("notes")).content.decode()
    assert "favicon" not in body and "Imago" not in body
    assert '<link rel="icon" href="data:,">' in body
