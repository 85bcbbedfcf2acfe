"""The partners' practice pages as each role, bad input, and nothing of a private list
before its author shares it."""

from __future__ import annotations

import pytest

from practice import services
from practice.models import AgreementDay, AgreementThanks, CaringBehaviour, CaringGiven
from tests.conftest import ROLES
from tests.helpers import text_of
from tests.practice.conftest import ALEX_PRIVATE, REQUEST, SAM_ITEM

pytestmark = pytest.mark.django_db

PAGES = ["/between/caring/", "/between/progress/"]
PARTNERS = {"alex", "sam"}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", PAGES)
def test_each_page_is_the_couples_own(client_as, pair, agreement, alex_private, role, page, link):
    response = client_as(role).get(page)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    elif role in PARTNERS or role == "outsider":
        assert response.status_code == 200
        body = text_of(response)
        # Alex's private item is Alex's alone; the agreement is Alex and Sam's.
        assert (ALEX_PRIVATE in body) == (role == "alex" and page == PAGES[0])
        if page == PAGES[1]:
            assert (REQUEST in body) == (role in PARTNERS)
    else:  # single, therapists, staff: there is no such page for them
        assert response.status_code == 404


def _posts(agreement, item, given):
    return [
        f"/between/agreements/{agreement.public_id}/done/",
        f"/between/agreements/{agreement.public_id}/thanks/",
        f"/between/agreements/{agreement.public_id}/days/",
        f"/between/caring/items/{item.public_id}/remove/",
        f"/between/caring/items/{item.public_id}/given/",
        f"/between/caring/given/{given.public_id}/acknowledge/",
    ]


@pytest.mark.parametrize("role", ["outsider", "single", "therapist", "staff", "anonymous"])
def test_nobody_outside_the_couple_writes_to_it(client_as, agreement, sam_shared, alex, role, link):
    given = services.caring_give(user=alex, item_public_id=sam_shared.public_id)
    for url in _posts(agreement, sam_shared, given):
        response = client_as(role).post(url, {"text": "hi", "days": "3", "token": "t"})
        expected = 302 if role == "anonymous" else 404
        assert response.status_code == expected, url
    assert not AgreementDay.objects.exists() and not AgreementThanks.objects.exists()
    assert CaringBehaviour.objects.get().removed_at is None
    assert CaringGiven.objects.get().acknowledged_at is None
    agreement.refresh_from_db()
    assert agreement.days == 14


def test_pages_only_answer_their_methods(client_as, pair, agreement):
    alex = client_as("alex")
    assert alex.post("/between/progress/").status_code == 405
    assert alex.get(f"/between/agreements/{agreement.public_id}/done/").status_code == 405


def test_the_home_page_shows_open_agreements_to_both(client_as, agreement):
    sam_home = text_of(client_as("sam").get("/"))
    alex_home = text_of(client_as("alex").get("/"))
    assert f"You agreed to: “{REQUEST}”" in sam_home and "Mark today done" in sam_home
    assert f"Sam agreed to: “{REQUEST}”" in alex_home and "Mark today done" not in alex_home
    assert "one-line appreciation" in alex_home and "one-line appreciation" not in sam_home
    assert REQUEST not in text_of(client_as("outsider").get("/"))


def test_the_giver_marks_today_done_twice_and_it_is_once(client_as, agreement):
    sam = client_as("sam")
    url = f"/between/agreements/{agreement.public_id}/done/"
    assert sam.post(url).status_code == 302
    assert sam.post(url, HTTP_HX_REQUEST="true").status_code == 200
    assert AgreementDay.objects.count() == 1
    assert "Done today" in text_of(sam.get("/"))


def test_the_receiver_cannot_mark_the_givers_days(client_as, agreement):
    response = client_as("alex").post(
        f"/between/agreements/{agreement.public_id}/done/", HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert "Only the partner who agreed" in text_of(response)
    assert not AgreementDay.objects.exists()


def test_a_replayed_appreciation_is_saved_once(client_as, agreement):
    alex = client_as("alex")
    url = f"/between/agreements/{agreement.public_id}/thanks/"
    form = {"text": "Thank you for the coffee <b>really</b>", "token": "form-1"}
    assert alex.post(url, form).status_code == 302
    assert alex.post(url, form).status_code == 302
    assert AgreementThanks.objects.count() == 1
    page = client_as("sam").get("/").content.decode()
    assert "&lt;b&gt;really&lt;/b&gt;" in page and "<b>really</b>" not in page


@pytest.mark.parametrize(
    "form", [{}, {"text": ""}, {"text": "x" * 201}, {"text": "ok", "token": "no spaces!"}]
)
def test_bad_appreciations_get_a_clear_422(client_as, agreement, form):
    response = client_as("alex").post(
        f"/between/agreements/{agreement.public_id}/thanks/", form, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert not AgreementThanks.objects.exists()


@pytest.mark.parametrize("days", ["", "0", "91", "abc"])
def test_bad_lengths_get_a_clear_422(client_as, agreement, days):
    response = client_as("sam").post(
        f"/between/agreements/{agreement.public_id}/days/", {"days": days}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422 and "number of days" in text_of(response)
    agreement.refresh_from_db()
    assert agreement.days == 14


def test_a_caring_item_posted_twice_is_one(client_as, pair):
    alex = client_as("alex")
    form = {"text": "hold my hand on walks", "token": "abc"}
    assert alex.post("/between/caring/items/", form).status_code == 302
    assert alex.post("/between/caring/items/", form).status_code == 302
    assert CaringBehaviour.objects.count() == 1


@pytest.mark.parametrize("form", [{}, {"text": "  "}, {"text": "x" * 201}])
def test_bad_caring_items_get_a_clear_400(client_as, pair, form):
    response = client_as("alex").post("/between/caring/items/", form)
    assert response.status_code == 400 and "Please write one specific thing" in text_of(response)
    assert not CaringBehaviour.objects.exists()


def test_a_second_caring_behaviour_the_same_day_gets_a_400(client_as, sam_shared, sam):
    other = services.caring_item_add(user=sam, text="sing to me")
    alex = client_as("alex")
    assert alex.post(f"/between/caring/items/{sam_shared.public_id}/given/").status_code == 302
    response = alex.post(f"/between/caring/items/{other.public_id}/given/")
    assert response.status_code == 400 and "already marked" in text_of(response)
    assert CaringGiven.objects.count() == 1


def test_the_week_view_shows_what_each_gave(client_as, sam_shared, alex_private, alex, sam):
    services.caring_list_share(user=alex)
    services.caring_give(user=alex, item_public_id=sam_shared.public_id)
    services.caring_give(user=sam, item_public_id=alex_private.public_id)
    alex_page = text_of(client_as("alex").get("/between/caring/"))
    sam_page = text_of(client_as("sam").get("/between/caring/"))
    assert SAM_ITEM in alex_page and ALEX_PRIVATE in alex_page
    assert "I noticed, thank you" in sam_page
    given = CaringGiven.objects.get(giver=alex)
    client_as("sam").post(f"/between/caring/given/{given.public_id}/acknowledge/")
    assert "Noticed" in text_of(client_as("alex").get("/between/caring/"))


@pytest.mark.parametrize("week", ["2026-13-01", "x", "\u00e9"])
def test_a_bad_week_shows_this_week(client_as, pair, week):
    assert client_as("alex").get("/between/caring/", {"week": week}).status_code == 200


# --- nothing of a private list before it is shared ------------------------------------------


def _everything_as(client_as, role, pair):
    pages = [
        "/",
        "/between/caring/",
        "/between/progress/",
        "/account/data/export/",
        f"/therapist/couples/{pair.public_id}/",
        f"/therapist/couples/{pair.public_id}/progress/",
        "/therapist/",
    ]
    client = client_as(role)
    return " ".join(client.get(p).content.decode() for p in pages)


@pytest.mark.parametrize("role", [r for r in ROLES if r != "alex"])
def test_nothing_of_a_private_list_leaks_to_anyone_else(client_as, pair, alex_private, link, role):
    assert ALEX_PRIVATE not in _everything_as(client_as, role, pair)
    assert ALEX_PRIVATE in _everything_as(client_as, "alex", pair)


def test_once_shared_the_partner_and_linked_therapist_see_it(
    client_as, pair, alex_private, alex, link
):
    services.caring_list_share(user=alex)
    assert ALEX_PRIVATE in text_of(client_as("sam").get("/between/caring/"))
    assert ALEX_PRIVATE in text_of(
        client_as("therapist").get(f"/therapist/couples/{pair.public_id}/")
    )
    assert ALEX_PRIVATE not in _everything_as(client_as, "outsider", pair)
    assert ALEX_PRIVATE not in _everything_as(client_as, "staff", pair)


def test_practice_models_are_not_in_the_admin():
    from django.contrib import admin

    assert [m for m in admin.site._registry if m._meta.app_label == "practice"] == []


# --- the export ---------------------------------------------------------------------------


def test_each_partner_exports_their_agreements_and_lists(
    client_as, agreement, alex_private, sam_shared, alex, sam
):
    services.agreement_thank(user=alex, agreement_public_id=agreement.public_id, text="zq-thanks")
    alex_data = client_as("alex").get("/account/data/export/").json()
    sam_data = client_as("sam").get("/account/data/export/").json()
    assert alex_data["agreements"][0]["text"] == REQUEST
    assert alex_data["agreements"][0]["you"] == "received"
    assert sam_data["agreements"][0]["you"] == "gave"
    assert sam_data["agreements"][0]["appreciations"][0]["text"] == "zq-thanks"
    assert alex_data["caring_behaviours"]["my_lists"][0]["items"][0]["text"] == ALEX_PRIVATE
    assert alex_data["caring_behaviours"]["shared_with_me"][0]["items"][0]["text"] == SAM_ITEM
    assert ALEX_PRIVATE not in str(sam_data)  # not shared with Sam
