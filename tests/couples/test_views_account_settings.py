"""Account settings: the time zone (from the browser first, then one's own choice), the
"your move" emails, and the private calendar feed (a long token, shown once, revocable)."""

from datetime import datetime
from zoneinfo import ZoneInfo

import icalendar
import pytest
from django.urls import reverse

from couples.models import CalendarFeed, User
from couples.views import NEW_FEED_URL
from dialogues import services
from live import clock
from tests.conftest import ROLES
from tests.helpers import form_token, text_of

pytestmark = pytest.mark.django_db

SETTINGS = reverse("couples:account_settings")
DETECT = reverse("couples:time_zone")


@pytest.mark.parametrize("role", ROLES)
def test_each_role_has_their_own_settings_and_anonymous_logs_in(
    role, user_in_role, client_as, pair
):
    response = client_as(role).get(SETTINGS)
    if role == "anonymous":
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
        return
    assert response.status_code == 200
    assert "Your time zone" in text_of(response)


def test_the_browser_sets_the_zone_only_once(client_as, alex):
    client = client_as(alex)
    assert client.post(DETECT, {"time_zone": "Europe/Berlin"}).json() == {"changed": True}
    assert client.post(DETECT, {"time_zone": "Asia/Tokyo"}).json() == {"changed": False}
    alex.refresh_from_db()
    assert alex.time_zone == "Europe/Berlin"


@pytest.mark.parametrize("zone", ["", "Mars/Olympus", "<b>", "Europe/Berlin\x00", "x" * 500])
def test_a_zone_that_is_not_a_zone_is_refused(client_as, alex, zone):
    client = client_as(alex)
    assert client.post(DETECT, {"time_zone": zone}).status_code == 400
    response = client.post(SETTINGS, {"time_zone": zone})
    assert response.status_code in (400, 422)
    alex.refresh_from_db()
    assert alex.time_zone == ""


def test_a_person_chooses_their_zone_and_emails(client_as, alex):
    client = client_as(alex)
    response = client.post(SETTINGS, {"time_zone": "America/Los_Angeles"})
    assert response.status_code == 302
    alex.refresh_from_db()
    assert alex.time_zone == "America/Los_Angeles" and alex.your_move_emails is True
    client.post(SETTINGS, {"time_zone": "America/Los_Angeles", "notify_your_move": "neither"})
    alex.refresh_from_db()
    assert alex.your_move_emails is False
    client.post(SETTINGS, {"time_zone": "America/Los_Angeles", "notify_your_move": "email"})
    alex.refresh_from_db()
    assert alex.your_move_emails is True


def test_pages_show_times_in_the_viewers_zone(client_as, dialogue, alex, sam):
    User.objects.filter(pk=alex.pk).update(time_zone="America/Los_Angeles")
    User.objects.filter(pk=sam.pk).update(time_zone="Europe/Berlin")
    clock.clock_set(datetime(2026, 12, 1, 18, 0, tzinfo=ZoneInfo("UTC")))
    try:
        sam.refresh_from_db()
        dialogue.refresh_from_db()
        services.move_submit(
            session_public_id=dialogue.public_id,
            user=sam,
            move="propose_time",
            payload={"time": "20:00"},
            at=dialogue.step_seq,
            token=form_token(),
        )
        home_alex = text_of(client_as(alex).get(reverse("home")))
        home_sam = text_of(client_as(sam).get(reverse("home")))
        page = text_of(client_as(alex).get(reverse("dialogues:detail", args=[dialogue.public_id])))
    finally:
        clock.clock_set(None)
    assert "11:00" in home_alex and "(America/Los_Angeles)" in home_alex
    assert "20:00" in home_sam and "(Europe/Berlin)" in home_sam
    assert "Planned for" in page and "11:00" in page


# --- the calendar feed ----------------------------------------------------------------------


def feed_url(client) -> str:
    client.post(reverse("couples:calendar_feed_new"))
    return client.session[NEW_FEED_URL]


def test_the_feed_lists_scheduled_dialogues_without_their_topic(client_as, dialogue, alex, sam):
    client = client_as(alex)
    url = feed_url(client)
    dialogue.refresh_from_db()
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="propose_time",
        payload={"time": "120"},
        at=dialogue.step_seq,
        token=form_token(),
    )
    path = url.split("testserver", 1)[1]
    response = client_as(None).get(path)  # calendar apps don't log in: the token is the key
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    assert "no-store" in response["Cache-Control"]
    cal = icalendar.Calendar.from_ical(response.content)
    (event,) = cal.walk("VEVENT")
    dialogue.refresh_from_db()
    assert event.decoded("dtstart") == dialogue.scheduled_for
    assert "Sunday mornings" not in response.content.decode()
    assert len(path.rsplit("/", 1)[1].removesuffix(".ics")) >= 40  # a long random token


def test_the_feed_page_shows_the_link_once(client_as, alex):
    client = client_as(alex)
    url = feed_url(client)
    assert url in client.get(SETTINGS).content.decode()
    assert url not in client.get(SETTINGS).content.decode()
    assert CalendarFeed.objects.get().token_hash not in url  # only the hash is kept


def test_a_revoked_or_replaced_feed_stops_working(client_as, alex):
    client = client_as(alex)
    first = feed_url(client).split("testserver", 1)[1]
    second = feed_url(client).split("testserver", 1)[1]
    anyone = client_as(None)
    assert anyone.get(first).status_code == 404
    assert anyone.get(second).status_code == 200
    client.post(reverse("couples:calendar_feed_revoke"))
    assert anyone.get(second).status_code == 404
    assert CalendarFeed.objects.filter(revoked_at__isnull=True).count() == 0


@pytest.mark.parametrize("token", ["x", "a" * 43, "../etc", "%00", "a" * 500])
def test_an_unknown_token_is_not_found(client_as, token):
    assert client_as(None).get(f"/calendar/{token}.ics").status_code in (400, 404)


def test_a_feed_shows_only_its_owners_dialogues(client_as, dialogue, alex, outsider):
    url = feed_url(client_as(outsider)).split("testserver", 1)[1]
    cal = icalendar.Calendar.from_ical(client_as(None).get(url).content)
    assert cal.walk("VEVENT") == []


@pytest.mark.parametrize("view", ["couples:calendar_feed_new", "couples:calendar_feed_revoke"])
def test_feed_changes_are_posts_by_a_logged_in_person(client_as, view):
    assert client_as(None).post(reverse(view)).status_code == 302
    assert CalendarFeed.objects.count() == 0


def _scheduled(dialogue, sam):
    dialogue.refresh_from_db()
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="propose_time",
        payload={"time": "60"},
        at=dialogue.step_seq,
        token=form_token(),
    )


@pytest.mark.parametrize("role", ["outsider", "single", "therapist", "link", "staff"])
def test_only_a_partner_can_cancel_an_appointment(request, client_as, dialogue, sam, role):
    _scheduled(dialogue, sam)
    who = request.getfixturevalue(role)
    who = who.therapist if role == "link" else who  # a linked therapist
    url = reverse("dialogues:cancel", args=[dialogue.public_id])
    assert client_as(who).post(url).status_code == 404
    dialogue.refresh_from_db()
    assert dialogue.status == "active"


@pytest.mark.parametrize("partner", ["alex", "sam"])
def test_either_partner_cancels_over_http(request, client_as, dialogue, sam, partner):
    _scheduled(dialogue, sam)
    url = reverse("dialogues:cancel", args=[dialogue.public_id])
    assert client_as(None).post(url).status_code == 302
    client = client_as(partner)
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    dialogue.refresh_from_db()
    assert dialogue.status == "ended"
    client.post(url)  # again: nothing more changes
    assert dialogue.turns.filter(move="cancel").count() == 1


# --- together on one device ------------------------------------------------------------------


def test_a_partner_allows_and_withdraws_one_device_from_settings(client_as, pair, sam):
    from couples.models import DeviceSharing

    client = client_as("sam")
    response = client.post(reverse("couples:device_sharing"), {"allow": "1"})
    assert response.status_code == 302
    assert DeviceSharing.objects.filter(granted_by=sam, revoked_at__isnull=True).exists()
    client.post(reverse("couples:device_sharing"), {"allow": "1"})  # double click
    assert DeviceSharing.objects.count() == 1
    client.post(reverse("couples:device_sharing"), {"allow": "0"})
    assert not DeviceSharing.objects.filter(revoked_at__isnull=True).exists()


@pytest.mark.parametrize("who", ["single", "therapist", "staff"])
def test_without_a_partner_there_is_nothing_to_allow(client_as, who):
    from couples.models import DeviceSharing

    client = client_as(who)
    page = client.get(reverse("couples:account_settings"))
    assert "Together on one device" not in page.content.decode()
    client.post(reverse("couples:device_sharing"), {"allow": "1"})
    assert not DeviceSharing.objects.exists()


def test_allowing_one_device_needs_a_post_and_a_login(client_as, pair):
    assert client_as("sam").get(reverse("couples:device_sharing")).status_code == 405
    response = client_as("anonymous").post(reverse("couples:device_sharing"), {"allow": "1"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("value", ["", "yes", "2", "<b>1</b>"])
def test_a_permission_choice_no_button_sends_changes_nothing(client_as, pair, value):
    from couples.models import DeviceSharing

    response = client_as("sam").post(
        reverse("couples:device_sharing"), {"allow": value}, follow=True
    )
    assert "that choice wasn't one of the buttons" in text_of(response)
    assert not DeviceSharing.objects.exists()
