"""Workshop pages as each role: the presenter, a participant partner, a partner of a couple not
in the workshop, another therapist, staff, anonymous. Bad input: a clear 4xx, nothing saved."""

from __future__ import annotations

import pytest

from dialogues import services as dialogue_services
from dialogues.selectors import dialogues_export
from tests.factories import make_workshop, practise
from tests.helpers import form_token, page_token
from tests.therapists.workshops.conftest import ROLES
from therapists.workshops import services
from therapists.workshops.models import Announcement, Attendance, Segment, SegmentRun, Workshop

# Alex and Sam joined the `workshop` of every test here, neither checked in.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("workshops_joined")]


@pytest.mark.parametrize("role", ROLES)
def test_the_board_is_the_presenters_only(workshop, role, person, client_as):
    response = client_as(person(role)).get(f"/therapist/workshops/{workshop.public_id}/")
    expected = {"presenter": 200, "anonymous": 302}.get(role, 404)
    assert response.status_code == expected
    if role == "presenter":
        page = response.content.decode()
        assert workshop.code in page and "Alex" in page and "Sam" in page


@pytest.mark.parametrize("role", ROLES)
def test_the_room_is_the_participants_only(workshop, role, person, client_as):
    response = client_as(person(role)).get(f"/workshops/{workshop.public_id}/")
    expected = {"participant": 200, "anonymous": 302}.get(role, 404)
    assert response.status_code == expected


@pytest.mark.parametrize("role", ROLES)
def test_the_workshop_list_is_for_verified_therapists(workshop, role, person, client_as):
    response = client_as(person(role)).get("/therapist/workshops/")
    expected = {"presenter": 200, "other_therapist": 200, "anonymous": 302}.get(role, 404)
    assert response.status_code == expected
    if role == "other_therapist":
        assert workshop.title not in response.content.decode()  # only their own


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "action", ["reconvene/", "resume/", "end/", "announce/", "segments/", "edit/"]
)
def test_nobody_but_the_presenter_runs_the_room(workshop, role, person, client_as, action):
    if role == "presenter":
        return
    response = client_as(person(role)).post(
        f"/therapist/workshops/{workshop.public_id}/{action}",
        {"kind": "message", "text": "hi", "token": form_token(), "title": "x"},
    )
    assert response.status_code in (302, 404)
    if role != "anonymous":
        assert response.status_code == 404
    workshop.refresh_from_db()
    assert workshop.state == Workshop.State.OPEN
    assert not Announcement.objects.exists()


def test_a_presenter_makes_a_workshop_and_its_plan(therapist, client_as):
    client = client_as(therapist)
    page = client.get("/therapist/workshops/").content.decode()
    response = client.post(
        "/therapist/workshops/",
        {
            "title": "Safe Conversations",
            "starts_at": "2026-12-12T10:00",
            "stream_url": "https://video.example.org/room",
            "token": page_token(page, "/therapist/workshops/"),
        },
    )
    assert response.status_code == 302
    workshop = Workshop.objects.get()
    board = client.get(response["Location"]).content.decode()
    action = f"/therapist/workshops/{workshop.public_id}/segments/"
    response = client.post(
        action,
        {
            "kind": "practise",
            "dialogue_kind": "appreciation",
            "minutes": "15",
            "text": "",
            "token": page_token(board, action),
        },
    )
    assert response.status_code == 302
    assert list(workshop.segments.values_list("kind", "minutes")) == [("practise", 15)]


@pytest.mark.parametrize(
    "data,message",
    [
        ({"title": "", "starts_at": "2026-12-12T10:00"}, "title"),
        ({"title": "x" * 121, "starts_at": "2026-12-12T10:00"}, "under"),
        ({"title": "ok", "starts_at": "soon"}, "date"),
        ({"title": "ok", "starts_at": "2026-12-12T10:00", "stream_url": "http://x.org"}, "https"),
        ({"title": "<b>x</b>", "starts_at": "", "stream_url": "javascript:alert(1)"}, "date"),
    ],
)
def test_a_bad_workshop_form_is_a_422_and_saves_nothing(therapist, client_as, data, message):
    response = client_as(therapist).post("/therapist/workshops/", data | {"token": form_token()})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Workshop.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "practise", "dialogue_kind": "", "minutes": "10"},
        {"kind": "practise", "dialogue_kind": "intentional", "minutes": ""},
        {"kind": "practise", "dialogue_kind": "nonsense", "minutes": "10"},
        {"kind": "sing", "minutes": "10"},
        {"kind": "teach", "minutes": "-3"},
        {"kind": "teach", "text": "x" * 1001},
    ],
)
def test_a_bad_segment_is_a_422_and_saves_nothing(workshop, therapist, client_as, data):
    before = Segment.objects.count()
    response = client_as(therapist).post(
        f"/therapist/workshops/{workshop.public_id}/segments/", data | {"token": form_token()}
    )
    assert response.status_code == 422
    assert Segment.objects.count() == before


def test_starting_a_segment_from_the_board_and_a_second_while_it_runs(
    workshop, therapist, client_as
):
    client = client_as(therapist)
    first, second = workshop.segments.filter(kind="practise").order_by("position")
    url = f"/therapist/workshops/{workshop.public_id}/segments/{first.public_id}/start/"
    assert client.post(url, {"rule": "not_today"}).status_code == 302
    assert client.post(url, {"rule": "not_today"}).status_code == 302  # a double-click
    again = f"/therapist/workshops/{workshop.public_id}/segments/{second.public_id}/start/"
    response = client.post(again)
    assert response.status_code == 409
    assert "Call the group back" in response.content.decode()
    assert SegmentRun.objects.count() == 1
    assert Workshop.objects.get().sender_rule == "not_today"


@pytest.mark.parametrize("segment", ["nope", "x" * 40, "<b>"])
def test_an_unknown_segment_is_a_404(workshop, therapist, client_as, segment):
    url = f"/therapist/workshops/{workshop.public_id}/segments/{segment}/start/"
    assert client_as(therapist).post(url).status_code == 404
    assert not SegmentRun.objects.exists()


def test_a_bad_sender_rule_is_a_422(workshop, therapist, client_as):
    url = (
        f"/therapist/workshops/{workshop.public_id}/segments/{practise(workshop).public_id}/start/"
    )
    assert client_as(therapist).post(url, {"rule": "loudest"}).status_code == 422
    assert not SegmentRun.objects.exists()


def test_joining_through_the_page(therapist, pair, alex, sam, client_as):
    workshop = make_workshop(therapist)
    client = client_as(alex)
    page = client.get(f"/workshops/join/{workshop.code}/").content.decode()
    assert workshop.code in page
    token = page_token(page, "/workshops/join/")
    response = client.post(
        "/workshops/join/", {"code": workshop.code, "accept": "on", "token": token}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/workshops/{workshop.public_id}/"
    again = client.post("/workshops/join/", {"code": workshop.code, "accept": "on", "token": token})
    assert again.status_code == 409
    assert "already joined" in again.content.decode()
    assert Attendance.objects.get().joined_at is None  # Sam hasn't accepted


@pytest.mark.parametrize(
    "data,status",
    [
        ({"code": "", "accept": "on"}, 422),
        ({"code": "ZZZZ-ZZZZ", "accept": "on"}, 422),
        ({"code": "WRONG", "accept": "on"}, 422),
        ({"code": "x" * 50, "accept": "on"}, 422),
    ],
)
def test_a_wrong_join_is_a_4xx_and_saves_nothing(therapist, pair, alex, client_as, data, status):
    make_workshop(therapist)
    response = client_as(alex).post("/workshops/join/", data | {"token": form_token()})
    assert response.status_code == status
    assert not Attendance.objects.exists()


def test_joining_without_accepting_is_a_422(therapist, pair, alex, client_as):
    workshop = make_workshop(therapist)
    response = client_as(alex).post(
        "/workshops/join/", {"code": workshop.code, "token": form_token()}
    )
    assert response.status_code == 422
    assert not Attendance.objects.exists()


def test_joining_a_closed_workshop_is_a_409(therapist, pair, alex, client_as):
    workshop = make_workshop(therapist)
    services.workshop_end(workshop=workshop)
    response = client_as(alex).post(
        "/workshops/join/", {"code": workshop.code, "accept": "on", "token": form_token()}
    )
    assert response.status_code == 409
    assert not Attendance.objects.exists()


def test_asking_for_help_and_allowing_reading_from_the_room(workshop, alex, client_as):
    client = client_as(alex)
    assert client.post(f"/workshops/{workshop.public_id}/help/").status_code == 302
    assert Attendance.objects.get().help_at is not None
    assert (
        client.post(f"/workshops/{workshop.public_id}/reading/", {"allow": "1"}).status_code == 302
    )
    assert (
        client.post(f"/workshops/{workshop.public_id}/reading/", {"allow": "?"}).status_code == 422
    )


def test_a_partner_not_in_the_workshop_cant_ask_for_help(workshop, outsider, client_as):
    assert client_as(outsider).post(f"/workshops/{workshop.public_id}/help/").status_code == 404
    assert Attendance.objects.get().help_at is None


def test_the_presenter_reads_a_practice_only_once_both_partners_allowed_it(
    workshop, practising, therapist, alex, sam, client_as
):
    session = practising
    client = client_as(therapist)
    console = f"/therapist/dialogues/{session.public_id}/"
    assert client.get(console).status_code == 404
    board = client.get(f"/therapist/workshops/{workshop.public_id}/").content.decode()
    assert console not in board
    services.reading_set(user=alex, workshop_public_id=workshop.public_id, allow=True)
    assert client.get(console).status_code == 404
    services.reading_set(user=sam, workshop_public_id=workshop.public_id, allow=True)
    assert console in client.get(f"/therapist/workshops/{workshop.public_id}/").content.decode()
    assert client.get(console).status_code == 200
    services.reading_set(user=sam, workshop_public_id=workshop.public_id, allow=False)
    assert client.get(console).status_code == 404


def test_called_back_the_partners_practice_page_says_back_to_the_group(
    workshop, practising, therapist, alex, sam, client_as
):
    session = practising
    services.workshop_reconvene(workshop=workshop)
    services.practices_pause(workshop_id=workshop.pk)
    page = client_as(sam).get(f"/dialogues/{session.public_id}/").content.decode()
    assert "Back to the group" in page and "called a time-out" not in page
    transcript = client_as(sam).get(f"/dialogues/{session.public_id}/transcript/")
    assert "Back to the group: the practice paused" in transcript.content.decode()
    room = client_as(sam).get(f"/workshops/{workshop.public_id}/").content.decode()
    assert "Your practice is paused" in room


def test_a_presenter_without_their_second_factor_is_sent_to_set_one_up(
    workshop, therapist, client_as
):
    therapist.authenticator_set.all().delete()
    response = client_as(therapist).get(f"/therapist/workshops/{workshop.public_id}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/2fa/")
    response = client_as(therapist).post(f"/therapist/workshops/{workshop.public_id}/end/")
    assert response.status_code in (302, 403)
    workshop.refresh_from_db()
    assert workshop.state == "open"


def test_a_segment_not_yet_run_can_be_removed_one_that_ran_stays(workshop, therapist, client_as):
    client = client_as(therapist)
    _teach, first, second = workshop.segments.order_by("position")
    base = f"/therapist/workshops/{workshop.public_id}/segments/"
    services.segment_start(workshop=workshop, segment_public_id=first.public_id)
    page = client.get(f"/therapist/workshops/{workshop.public_id}/").content.decode()
    assert f"{base}{second.public_id}/remove/" in page
    assert f"{base}{first.public_id}/remove/" not in page
    assert client.post(f"{base}{second.public_id}/remove/").status_code == 302
    assert client.post(f"{base}{second.public_id}/remove/").status_code == 302  # twice: gone
    assert client.post(f"{base}{first.public_id}/remove/").status_code == 409
    assert list(workshop.segments.values_list("position", flat=True)) == [1, 2]


def test_the_board_and_the_room_speak_spanish(workshop, therapist, alex, client_as):
    for person in (therapist, alex):
        person.language = "es"
        person.save(update_fields=["language"])
    board = client_as(therapist).get(f"/therapist/workshops/{workshop.public_id}/")
    text = board.content.decode()
    assert "Parejas" in text and "Empezar" in text and "Código para unirse" in text
    assert "Couples" not in text and "Join code" not in text
    room = client_as(alex).get(f"/workshops/{workshop.public_id}/").content.decode()
    assert "Lo que ve quien presenta" in room and "Nos gustaría ayuda" in room
    assert "What the presenter sees" not in room


def test_a_card_carries_its_last_step_so_the_board_marks_it_stuck_by_itself(
    workshop, practising, therapist, alex, client_as
):
    session = practising
    page = client_as(therapist).get(f"/therapist/workshops/{workshop.public_id}/").content.decode()
    assert f'data-last-step="{session.updated_at.isoformat()}"' in page
    assert 'data-stuck-after="240"' in page and "data-stuck-note hidden" in page


def test_a_practice_is_named_for_its_workshop_in_history_transcript_and_export(
    workshop, practising, therapist, alex, sam, client_as
):
    session = practising
    title = "Intentional Dialogue — Getting the Love You Want, practice 1"
    assert session.title == title  # the plan's first practice (its second segment)
    dialogue_services.session_end(session_public_id=session.public_id, user=alex)
    home = client_as(alex).get("/").content.decode()  # in their history
    assert title in home and "Session with your therapist" not in home
    transcript = client_as(sam).get(f"/dialogues/{session.public_id}/transcript/")
    assert title in transcript.content.decode()
    assert [d["topic"] for d in dialogues_export(user=sam)] == [title]
    sam.language = "es"
    sam.save(update_fields=["language"])
    spanish = client_as(sam).get(f"/dialogues/{session.public_id}/transcript/").content.decode()
    assert "Diálogo Intencional — Getting the Love You Want, práctica 1" in spanish


def test_the_second_practice_of_the_plan_is_practice_2(workshop, alex, sam):
    services.presence_set(user=alex, workshop_public_id=workshop.public_id, present=True)
    for position in (2, 3):
        if position == 3:
            services.workshop_reconvene(workshop=workshop)
        _segment, run = services.segment_start(
            workshop=workshop, segment_public_id=workshop.segments.get(position=position).public_id
        )
        services.practice_run(run_id=run.pk)
    second = workshop.segments.get(position=3).practices.get().session
    assert second.title == "Appreciation Dialogue — Getting the Love You Want, practice 2"


def test_a_practice_begins_in_the_transcript_as_the_workshops_not_at_an_appointed_time(
    practising, sam, client_as
):
    transcript = client_as(sam).get(f"/dialogues/{practising.public_id}/transcript/")
    text = transcript.content.decode()
    assert "The workshop&#x27;s practice began" in text or "The workshop's practice began" in text
    assert "The appointed time came" not in text
