"""No page for a signed-in person is ever kept in a cache (issue 12, defect 9).

Any response to a signed-in person is `Cache-Control: private, no-store` (one rule, in
imago_site.middleware.PrivateNoStoreMiddleware): the dialogue page and its transcript, the
therapist's console, pair page and dashboard, the home page and every other page, partials
and redirects included. A shared computer's back button or a proxy keeps none of it.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from dialogues import services as dialogue_services
from safety import services as safety_services
from tests.helpers import form_token
from therapists import services as therapist_services

CALM = {"afraid": "no", "hurt": "no", "crisis": "no"}


def never_stored(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


@pytest.fixture
def session(pair, alex, sam, therapist):
    link = therapist_services.link_code_issue(therapist=therapist, token=form_token())
    link = therapist_services.link_code_redeem(user=alex, code=link.code)
    therapist_services.consent_give(user=sam, link_public_id=link.public_id)
    for person in (alex, sam):
        safety_services.screening_save(user=person, answers=CALM)
        safety_services.screening_set_ready(user=person, ready=True)
    session = dialogue_services.dialogue_start(user=alex, kind="intentional", topic="Us")
    dialogue_services.move_submit(
        session_public_id=session.public_id, user=sam, move="accept_now", token=form_token()
    )
    return session


def private_pages(session, pair):
    """(who, url) for each page the issue names."""
    return [
        ("alex", reverse("home")),
        ("alex", reverse("dialogues:detail", args=[session.public_id])),
        ("alex", reverse("dialogues:transcript", args=[session.public_id])),
        ("therapist", reverse("home")),
        ("therapist", reverse("therapists:dashboard")),
        ("therapist", reverse("therapists:couple", args=[pair.public_id])),
        ("therapist", reverse("therapists:console", args=[session.public_id])),
        ("therapist", reverse("therapists:transcript", args=[session.public_id])),
        ("alex", reverse("safety:page")),
        ("alex", reverse("couples:your_data")),
        ("staff", reverse("admin:index")),
    ]


def test_every_private_page_is_never_stored(session, pair, client_as, user_in_role):
    for who, url in private_pages(session, pair):
        response = client_as(user_in_role(who)).get(url)
        assert response.status_code == 200, (who, url)
        assert never_stored(response), (who, url, response.get("Cache-Control"))


def test_partials_and_redirects_for_a_signed_in_person_are_never_stored(session, client_as, alex):
    client = client_as(alex)
    partial = client.get(
        reverse("dialogues:detail", args=[session.public_id]), HTTP_HX_REQUEST="true"
    )
    assert never_stored(partial)
    redirect = client.post(reverse("dialogues:pause", args=[session.public_id]))
    assert redirect.status_code == 302 and never_stored(redirect)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and never_stored(missing)


def test_the_export_keeps_its_download_headers(client_as, alex):
    response = client_as(alex).get(reverse("couples:your_data_export"))
    assert response.status_code == 200 and never_stored(response)
    assert "attachment" in response["Content-Disposition"]


def test_public_pages_for_visitors_are_left_alone(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
