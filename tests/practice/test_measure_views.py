"""The questionnaire pages and the scores on the progress, couple and dashboard pages, tried
as every role: who may answer, who sees which scores (before and after sharing), what a
therapist's read leaves in the audit trail."""

from __future__ import annotations

import re

import pytest
from django.contrib import admin

from practice import services
from practice.models import MeasureAnswer, MeasureRhythm
from security.models import AuditEvent
from tests.factories import link_with_consent, make_couple, screen
from tests.helpers import form_token

pytestmark = pytest.mark.django_db

ALEX_CSI4 = {"q1": 3, "q5": 4, "q7": 3, "q10": 3}  # 13
SAM_CSI4 = {"q1": 5, "q5": 4, "q7": 4, "q10": 4}  # 17
URL = "/between/questionnaire/csi4/"


def _post(client, data, url=URL):
    return client.post(url, {**{k: str(v) for k, v in data.items()}, "token": form_token()})


def _scores_in(page: str) -> set[int]:
    """The scores in the page's score table (its CSI-4 column)."""
    table = (
        page.split('id="csi-table"', 1)[1].split("</table>", 1)[0] if "csi-table" in page else ""
    )
    return {int(n) for n in re.findall(r"</td><td>(\d+)", table)}


def test_it_shows_every_question_as_a_labelled_radio_group(client_as, pair):
    page = client_as("alex").get(URL).content.decode()
    assert page.count('<fieldset class="measure-item') == 4
    assert page.count('type="radio" name="q1"') == 7 and page.count('type="radio" name="q5"') == 6
    assert "Skip for now" in page and "Funk, J. L., &amp; Rogge" in page
    assert "not a validated version" not in page  # English is the published wording


def test_it_shows_the_word_pairs_of_the_long_form(client_as, pair):
    page = client_as("alex").get("/between/questionnaire/csi16/").content.decode()
    assert page.count('<fieldset class="measure-item') == 16
    assert page.count('type="radio" name="q11"') == 6 and "Interesting … Boring" in page


def test_it_saves_a_partners_answers(client_as, alex, pair):
    response = _post(client_as("alex"), ALEX_CSI4)
    assert response.status_code == 302 and response["Location"] == "/between/progress/"
    row = MeasureAnswer.objects.get()
    assert (row.person, row.couple, row.answers) == (alex, pair, ALEX_CSI4)


@pytest.mark.parametrize(
    "data",
    [
        {"q1": 3, "q5": 4, "q7": 3},  # one left out
        {**ALEX_CSI4, "q1": "7"},
        {**ALEX_CSI4, "q1": "<b>3</b>"},
        {**ALEX_CSI4, "q1": "3" * 5000},
    ],
)
def test_it_refuses_bad_answers_with_a_message_and_saves_nothing(client_as, pair, data):
    response = _post(client_as("alex"), data)
    assert response.status_code == 400
    assert "Please choose one answer for every question." in response.content.decode()
    assert not MeasureAnswer.objects.exists()


def test_it_refuses_nul_bytes(client_as, pair):
    response = _post(client_as("alex"), {**ALEX_CSI4, "q1": "3\x00"})
    assert response.status_code == 400 and not MeasureAnswer.objects.exists()


def test_it_saves_a_double_click_once(client_as, pair):
    client, token = client_as("alex"), form_token()
    for _ in range(2):
        client.post(URL, {**{k: str(v) for k, v in ALEX_CSI4.items()}, "token": token})
    assert MeasureAnswer.objects.count() == 1


def test_it_refuses_a_form_without_its_token(client_as, pair):
    response = client_as("alex").post(URL, {k: str(v) for k, v in ALEX_CSI4.items()})
    assert response.status_code == 400 and not MeasureAnswer.objects.exists()


def test_it_skips(client_as, alex, pair):
    response = client_as("alex").post(URL + "skip/", {"token": form_token()})
    assert response.status_code == 302
    assert MeasureAnswer.objects.get().skipped


def test_it_knows_no_other_questionnaire(client_as, pair):
    assert client_as("alex").get("/between/questionnaire/phq9/").status_code == 404


@pytest.mark.parametrize("who", ["therapist", "staff", "single", "unverified_therapist"])
def test_it_is_for_partners_only(client_as, pair, who):
    client = client_as(who)
    assert client.get(URL).status_code == 404
    assert _post(client, ALEX_CSI4).status_code == 404
    assert not MeasureAnswer.objects.exists()


def test_it_sends_the_anonymous_to_sign_in(client_as, pair):
    response = _post(client_as("anonymous"), ALEX_CSI4)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not MeasureAnswer.objects.exists()


def test_it_offers_a_due_questionnaire_on_the_home_page(client_as, pair):
    page = client_as("alex").get("/").content.decode()
    assert "/between/questionnaire/csi16/" in page and "Skip for now" in page


@pytest.fixture
def answered(pair, alex, sam):
    services.measure_answer(user=alex, instrument="csi4", answers=ALEX_CSI4, token=form_token())
    services.measure_answer(user=sam, instrument="csi4", answers=SAM_CSI4, token=form_token())


def test_it_shows_a_partner_their_own_scores_only(client_as, answered):
    page = client_as("alex").get("/between/progress/").content.decode()
    assert _scores_in(page) == {13}
    assert "Sam answered 1 questionnaire and keeps the scores private." in page
    assert "below the cut-off" in page and "not a diagnosis" in page


def test_it_shows_the_other_partner_shared_scores_until_unshared(client_as, answered, sam):
    alex_client = client_as("alex")
    sam_client = client_as("sam")
    assert (
        sam_client.post(
            "/between/questionnaire-sharing/", {"what": "scores", "shared": "1"}
        ).status_code
        == 302
    )
    assert _scores_in(alex_client.get("/between/progress/").content.decode()) == {13, 17}
    sam_client.post("/between/questionnaire-sharing/", {"what": "scores", "shared": "0"})
    assert _scores_in(alex_client.get("/between/progress/").content.decode()) == {13}


def test_it_refuses_sharing_anything_else(client_as, answered):
    response = client_as("sam").post(
        "/between/questionnaire-sharing/", {"what": "answers", "shared": "1"}
    )
    assert response.status_code == 302
    assert _scores_in(client_as("alex").get("/between/progress/").content.decode()) == {13}


def test_it_shows_another_couple_nothing_of_theirs(client_as, answered, outsider):
    page = client_as(outsider).get("/between/progress/").content.decode()
    assert _scores_in(page) == set() and "Alex" not in page and "Sam answered" not in page


def test_it_shows_a_linked_therapist_both_partners_audited(client_as, answered, pair, link):
    client = client_as("therapist")
    for url in (
        f"/therapist/couples/{pair.public_id}/",
        f"/therapist/couples/{pair.public_id}/progress/",
    ):
        page = client.get(url).content.decode()
        assert _scores_in(page) == {13, 17}, url
        assert "cut-off 13.5" in page
    assert AuditEvent.objects.filter(action="therapist.read", details__what="measures").count() == 2


def test_it_shows_the_dashboard_trend_audited(client_as, answered, pair, link, alex):
    services.measure_answer(
        user=alex, instrument="csi4", answers={**ALEX_CSI4, "q1": 5}, token=form_token()
    )
    page = client_as("therapist").get("/therapist/").content.decode()
    assert "Satisfaction (CSI-4): Alex 15 of 21 (+2); Sam 17 of 21." in page
    assert AuditEvent.objects.filter(details__what="measures_trend").count() == 1


def test_it_shows_an_unlinked_therapist_nothing(client_as, answered, pair):
    client = client_as("therapist")
    assert client.get(f"/therapist/couples/{pair.public_id}/").status_code == 404
    assert client.get(f"/therapist/couples/{pair.public_id}/progress/").status_code == 404
    assert "Satisfaction" not in client.get("/therapist/").content.decode()
    assert not AuditEvent.objects.filter(action="therapist.read").exists()


def test_it_shows_staff_no_page_and_no_admin(client_as, answered, pair):
    client = client_as("staff")
    assert client.get("/between/progress/").status_code == 404
    assert client.get(f"/therapist/couples/{pair.public_id}/").status_code == 404
    assert not any(
        m._meta.app_label == "practice" and m.__name__.startswith("Measure")
        for m in admin.site._registry
    )


def test_a_linked_therapist_sets_the_rhythm_and_sends_one_now(client_as, pair, link, alex):
    client = client_as("therapist")
    url = f"/therapist/couples/{pair.public_id}/questionnaires/"
    assert (
        client.post(url, {"csi4_days": "14", "csi16_days": "0", "token": form_token()}).status_code
        == 302
    )
    rhythm = MeasureRhythm.objects.get()
    assert (rhythm.csi4_days, rhythm.csi16_days) == (14, 0)
    token = form_token()
    client.post(url, {"send_now": "csi16", "token": token})
    sent = MeasureRhythm.objects.get()
    client.post(url, {"send_now": "csi16", "token": token})  # a double click asks once
    assert MeasureRhythm.objects.get().requested_at == sent.requested_at
    assert sent.requested == "csi16"
    assert AuditEvent.objects.filter(action="therapist.measures").exists()
    assert (
        client.post(url, {"csi4_days": "3", "csi16_days": "30", "token": form_token()}).status_code
        == 302
    )
    assert MeasureRhythm.objects.get().csi4_days == 14


@pytest.mark.parametrize("who", ["alex", "staff", "anonymous"])
def test_only_a_linked_therapist_sets_the_rhythm(client_as, pair, link, who):
    url = f"/therapist/couples/{pair.public_id}/questionnaires/"
    response = client_as(who).post(url, {"send_now": "csi4", "token": form_token()})
    assert response.status_code in (302, 404)
    assert not MeasureRhythm.objects.exists()


def test_another_therapist_cannot_set_anothers_couple_rhythm(client_as, pair, link, therapist):
    _, olly, pat = make_couple()
    screen(olly)
    screen(pat)
    other = link_with_consent(therapist, olly, pat)
    assert other.couple != pair
    client = client_as("therapist")
    response = client.post(
        f"/therapist/couples/{other.couple.public_id}/questionnaires/",
        {"send_now": "csi4", "token": form_token()},
    )
    assert response.status_code == 302
    assert MeasureRhythm.objects.get().couple == other.couple


def test_it_says_the_spanish_wording_is_not_validated(client_as, alex, pair):
    alex.language = "es"
    alex.save(update_fields=["language"])
    page = client_as(alex).get(URL, HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "esta redacción no es una versión validada del cuestionario" in page
    assert "Extremadamente infeliz" in page and 'lang="en">Funk, J. L.' in page
