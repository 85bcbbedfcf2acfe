"""The private safety page, support lines, the neutral exit page and the admin, as each role."""

import html

import pytest
from django.urls import reverse

from safety import selectors as safety
from safety import services as safety_services
from safety.models import SafetyScreening, SupportResource
from tests.factories import screen

PAGE = reverse("safety:page")
POSTS = {
    "safety:answer": {"afraid": "often"},
    "safety:ready": {"ready": "1"},
    "safety:share": {"shared": "1"},
}


def test_a_partner_is_asked_the_questions_privately(client_as, unscreened):
    response = client_as("alex").get(PAGE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Only you can see this page" in body
    for question in safety.QUESTIONS:
        assert question.text in html.unescape(body)
    assert body.count('value="" checked') == len(safety.QUESTIONS)  # skipping is the default
    assert "no-store" in response["Cache-Control"]


def test_a_concern_shows_support_lines_and_individual_help_first(client_as, unscreened):
    SupportResource.objects.create(
        country="GB", country_name="United Kingdom", kind="crisis", name="Kind Line", phone="0800 1"
    )
    client = client_as("sam")
    response = client.post(reverse("safety:answer"), {"afraid": "often", "country": "GB"})
    assert response.status_code == 302 and response["Location"] == PAGE
    body = client.get(PAGE).content.decode()
    assert "Thank you for telling us" in body and "comes first" in body
    assert "Kind Line" in body and 'href="tel:08001"' in body
    assert "I want to go on anyway" in body
    screening = SafetyScreening.objects.get(user__email="sam@example.com")
    assert screening.needs_attention and not screening.ready and screening.country == "GB"


def test_without_a_concern_the_person_still_decides_when_to_go_on(client_as, unscreened):
    client = client_as("alex")
    client.post(reverse("safety:answer"), {"afraid": "no"})
    body = client.get(PAGE).content.decode()
    assert "Thank you for telling us" not in body and "I'm ready to start" in body
    client.post(reverse("safety:ready"), {"ready": "1"})
    assert SafetyScreening.objects.get(user__email="alex@example.com").ready
    assert "I'm not ready after all" in html.unescape(client.get(PAGE).content.decode())


def test_the_person_chooses_whether_a_therapist_may_read_the_answers(client_as, unscreened):
    client = client_as("alex")
    client.post(reverse("safety:answer"), {"hurt": "yes"})
    client.post(reverse("safety:share"), {"shared": "1"})
    assert SafetyScreening.objects.get().shared_with_therapist
    assert "Stop sharing my answers" in client.get(PAGE).content.decode()
    client.post(reverse("safety:share"), {"shared": "0"})
    assert not SafetyScreening.objects.get().shared_with_therapist


def test_retaking_shows_the_earlier_answers(client_as, unscreened):
    client = client_as("alex")
    client.post(reverse("safety:answer"), {"control": "sometimes"})
    body = client.get(PAGE + "?retake=1").content.decode()
    assert 'name="control" value="sometimes" checked' in body


def test_the_country_can_be_changed_for_the_lines(client_as, unscreened):
    SupportResource.objects.create(
        country="US", country_name="United States", kind="crisis", name="US line"
    )
    client = client_as("alex")
    client.post(reverse("safety:answer"), {})
    assert "US line" not in client.get(PAGE).content.decode()
    assert "US line" in client.get(PAGE + "?country=US").content.decode()


@pytest.mark.parametrize("data", [{"afraid": "maybe"}, {"crisis": "x" * 3000}])
def test_bad_answers_get_a_kind_message_and_change_nothing(client_as, unscreened, data):
    response = client_as("alex").post(reverse("safety:answer"), data)
    assert response.status_code == 422
    assert "Please choose one of the answers offered" in response.content.decode()
    assert not SafetyScreening.objects.exists()


@pytest.mark.parametrize("name", ["safety:ready", "safety:share"])
@pytest.mark.parametrize("value", ["", "yes", "2"])
def test_a_malformed_decision_changes_nothing(client_as, unscreened, name, value):
    client = client_as("alex")
    client.post(reverse("safety:answer"), {"afraid": "often"})
    field = "ready" if name.endswith("ready") else "shared"
    client.post(reverse(name), {field: value})
    screening = SafetyScreening.objects.get()
    assert not screening.ready and not screening.shared_with_therapist


def test_deciding_before_answering_is_refused_kindly(client_as, unscreened):
    response = client_as("alex").post(reverse("safety:ready"), {"ready": "1"}, follow=True)
    assert "Please answer the questions first" in response.content.decode()
    assert not SafetyScreening.objects.exists()


@pytest.mark.parametrize("name", [PAGE, *[reverse(n) for n in POSTS]])
def test_anonymous_visitors_are_sent_to_log_in(client_as, unscreened, name):
    response = (
        client_as("anonymous").post(name) if name != PAGE else client_as("anonymous").get(name)
    )
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("who", ["therapist", "unverified_therapist", "staff"])
@pytest.mark.parametrize("name", list(POSTS))
def test_therapists_and_staff_have_no_questions_to_answer(client_as, unscreened, who, name):
    client = client_as(who)
    assert client.get(PAGE).status_code == 302
    response = client.post(reverse(name), POSTS[name])
    assert response.status_code == 302 and response["Location"] == "/"
    assert not SafetyScreening.objects.exists()


def test_someone_without_a_couple_sees_the_lines_and_answers_later(client_as, unscreened):
    client = client_as("single")
    body = client.get(PAGE).content.decode()
    assert "Once you've started a couple" in html.unescape(body)
    assert "Support lines" in body
    response = client.post(reverse("safety:answer"), {"afraid": "no"})
    assert response.status_code == 422 and not SafetyScreening.objects.exists()


@pytest.mark.parametrize("name", list(POSTS))
def test_writes_need_a_post(client_as, unscreened, name):
    assert client_as("alex").get(reverse(name)).status_code == 405


def test_each_person_sees_only_their_own_answers(client_as, unscreened, sam):
    safety_services.screening_save(user=sam, answers={"hurt": "yes", "addiction": "yes"})
    safety_services.screening_set_shared(user=sam, shared=True)
    body = client_as("alex").get(PAGE).content.decode()
    assert "Thank you for telling us" not in body and "Your answers" not in body


# --- the neutral page "Exit" leads to ---------------------------------------------------------


@pytest.mark.parametrize("who", ["alex", "anonymous", "therapist"])
def test_the_exit_page_is_plain_and_says_nothing_about_imago(client_as, unscreened, who):
    response = client_as(who).get(reverse("notes"))
    body = response.content.decode()
    assert response.status_code == 200 and "<title>Notes</title>" in body
    for word in ("Imago", "imago.css", "imago.js", "ws-connect", "dialogue", "<script", "Exit"):
        assert word not in body


def test_every_page_has_a_quick_exit(client_as, unscreened):
    for who, path in [("anonymous", "/"), ("alex", "/"), ("alex", PAGE), ("staff", "/")]:
        body = client_as(who).get(path).content.decode()
        assert f'href="{reverse("notes")}" data-quick-exit' in body


# --- the admin: support lines yes, answers never -------------------------------------------------


def test_admins_edit_support_lines_but_never_see_answers(client_as, unscreened, sam, staff):
    screen(sam, concern=True)
    SafetyScreening.objects.filter(user=sam).update(answers={"afraid": "often-secret"})
    client = client_as(staff)
    staff.is_superuser = True
    staff.save()
    index = client.get("/admin/").content.decode()
    assert "Support resources" in index and "screening" not in index.lower()
    assert client.get("/admin/safety/supportresource/").status_code == 200
    assert client.get("/admin/safety/safetyscreening/").status_code == 404
    user_page = client.get(f"/admin/couples/user/{sam.pk}/change/").content.decode()
    assert "often-secret" not in user_page and "needs_attention" not in user_page
