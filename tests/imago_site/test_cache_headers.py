"""No page for a signed-in person is ever kept in a cache (issue 12, defect 9).

Any response to a signed-in person is `Cache-Control: private, no-store` (one rule, in
imago_site.middleware.PrivateNoStoreMiddleware): the dialogue page and its transcript, the
therapist's console, couple page and dashboard, the home page and every other page, partials
and redirects included. A shared computer's back button or a proxy keeps none of it.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from dialogues import services as dialogue_services
from safety import services as safety_services
from therapists import services as therapist_services

CALM = {"afraid": "no", "hurt": "no", "crisis": "no"}


def never_stored(response) -> bool:
    directives = {d.strip() for d in response.get("Cache-Control", "").split(",")}
    return {"no-store", "private"} <= directives


@pytest.fixture
def session(couple, partner_a, partner_b, therapist):
    link = therapist_services.link_code_issue(therapist=therapist)
    link = therapist_services.link_code_redeem(user=partner_a, code=link.code)
    therapist_services.consent_give(user=partner_b, link_public_id=link.public_id)
    for person in (partner_a, partner_b):
        safety_services.screening_save(user=person, answers=CALM)
        safety_services.screening_set_ready(user=person, ready=True)
    session = dialogue_services.dialogue_start(user=partner_a, kind="intentional", topic="Us")
    dialogue_services.move_submit(
        session_public_id=session.public_id, user=partner_b, move="accept_now"
    )
    return session


def private_pages(session, couple):
    """(who, url) for each page the issue names."""
    return [
        ("partner_a", reverse("home")),
        ("partner_a", reverse("dialogues:detail", args=[session.public_id])),
        ("partner_a", reverse("dialogues:transcript", args=[session.public_id])),
        ("therapist", reverse("home")),
        ("therapist", reverse("therapists:dashboard")),
        ("therapist", reverse("therapists:couple", args=[couple.public_id])),
        ("therapist", reverse("therapists:console", args=[session.public_id])),
        ("therapist", reverse("therapists:transcript", args=[session.public_id])),
        ("partner_a", reverse("safety:page")),
        ("partner_a", reverse("couples:your_data")),
        ("staff", reverse("admin:index")),
    ]


def test_every_private_page_is_never_stored(session, couple, client_as, user_in_role):
    for who, url in private_pages(session, couple):
        response = client_as(user_in_role(who)).get(url)
        assert response.status_code == 200, (who, url)
        assert never_stored(response), (who, url, response.get("Cache-Control"))


def test_partials_and_redirects_for_a_signed_in_person_are_never_stored(
    session, client_as, partner_a
):
    client = client_as(partner_a)
    partial = client.get(
        reverse("dialogues:detail", args=[session.public_id]), HTTP_HX_REQUEST="true"
    )
    assert never_stored(partial)
    redirect = client.post(reverse("dialogues:pause", args=[session.public_id]))
    assert redirect.status_code == 302 and never_stored(redirect)
    missing = client.get("/no-such-page/")
    assert missing.status_code == 404 and never_stored(missing)


def test_the_export_keeps_its_download_headers(client_as, partner_a):
    response = client_as(partner_a).get(reverse("couples:your_data_export"))
    assert response.status_code == 200 and never_stored(response)
    assert "attachment" in response["Content-Disposition"]


def test_public_pages_for_visitors_are_left_alone(client):
    response = client.get(reverse("home"))
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
