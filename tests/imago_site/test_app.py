"""The installable app: the manifest, the service worker and the offline page (issue 31).

Each is public and the same for everyone (the worker keeps the offline page on the device),
so every role gets the same thing, and nothing of the signed-in person is in any of them.
"""

from __future__ import annotations

import json
import struct

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

ROLES = ["anonymous", "alex", "single", "therapist", "staff"]


def _png_size(path: str) -> tuple[int, int]:
    with open(path, "rb") as f:
        head = f.read(24)
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("role", ROLES)
def test_it_serves_an_installable_manifest_to_every_role(client_as, role, user_in_role):
    response = client_as(role).get(reverse("manifest"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/manifest+json"
    data = json.loads(response.content)
    assert data["name"] == "Imago" and data["short_name"] == "Imago"
    assert data["display"] == "standalone"
    assert data["start_url"] == "/" and data["scope"] == "/"
    assert data["theme_color"] == "#2c6a64" and data["background_color"] == "#f8f5f0"
    person = user_in_role(role)
    if person is not None:
        assert person.display_name not in response.content.decode()


def test_it_lists_icons_that_exist_at_their_sizes_including_maskable(client):
    icons = json.loads(client.get(reverse("manifest")).content)["icons"]
    purposes = {(icon["sizes"], icon["purpose"]) for icon in icons}
    assert {("192x192", "any"), ("512x512", "any")} <= purposes
    assert {("192x192", "maskable"), ("512x512", "maskable")} <= purposes
    for icon in icons:
        path = finders.find(icon["src"].removeprefix("/static/"))
        assert path, icon["src"]
        width, height = _png_size(path)
        assert f"{width}x{height}" == icon["sizes"]


@pytest.mark.parametrize("role", ROLES)
def test_it_serves_the_service_worker_from_the_root_for_every_role(client_as, role):
    response = client_as(role).get("/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "no-cache" in response["Cache-Control"]  # a new version is found on the next visit
    body = response.content.decode()
    assert '"/offline/"' in body and "/static/css/imago.css" in body
    assert "showNotification" in body


def test_the_worker_keeps_only_public_files_and_the_offline_page(client):
    body = client.get("/sw.js").content.decode()
    shell = json.loads(body.split("const SHELL = ", 1)[1].split(";\n", 1)[0])
    assert shell[0] == "/offline/"
    assert all(url.startswith("/static/") for url in shell[1:])
    # Pages come from the network every time; only static files are stored as they pass.
    assert 'request.mode === "navigate"' in body and "caches.open(STATIC_CACHE)" in body


def test_the_worker_version_changes_with_the_language(client):
    english = client.get("/sw.js").content.decode().splitlines()[0]
    spanish = client.get("/sw.js", HTTP_ACCEPT_LANGUAGE="es").content.decode().splitlines()[0]
    assert english != spanish


@pytest.mark.parametrize("role", ROLES)
def test_the_offline_page_shows_nothing_of_the_signed_in_person(client_as, role, user_in_role):
    response = client_as(role).get(reverse("offline"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "You're offline" in page
    assert 'id="last-home"' in page  # filled on the device from the last home page
    person = user_in_role(role)
    if person is not None:
        assert person.display_name not in page and person.email not in page
    assert "<form" not in page  # nothing to post, no token to go stale


@pytest.mark.parametrize("role", ["anonymous", "alex", "therapist"])
def test_every_page_links_the_manifest_and_the_worker(client_as, role):
    page = client_as(role).get(reverse("home"), follow=True).content.decode()
    assert '<link rel="manifest" href="/manifest.webmanifest" data-service-worker="/sw.js">' in page
    assert '<meta name="theme-color" content="#2c6a64">' in page


def test_the_policy_allows_our_own_worker_and_manifest_only(client):
    policy = client.get(reverse("home"))["Content-Security-Policy"]
    assert "worker-src 'self'" in policy and "manifest-src 'self'" in policy


def test_the_home_page_marks_what_the_offline_page_may_keep_and_no_topic(client_as, dialogue):
    page = client_as("sam").get(reverse("home")).content.decode()
    kept = [line for line in page.splitlines() if "data-offline-keep" in line]
    assert kept
    assert all(dialogue.title not in line for line in kept)


def test_the_app_files_refuse_writes(client):
    for url in ("/sw.js", reverse("manifest"), reverse("offline")):
        assert client.post(url).status_code == 405


def test_a_therapist_before_their_second_factor_still_gets_the_app_files(client_as, therapist):
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=therapist).delete()
    client = client_as(therapist)
    assert client.get(reverse("home")).status_code == 302  # pages wait for the second factor
    for url in ("/sw.js", reverse("manifest"), reverse("offline")):
        assert client.get(url).status_code == 200, url
