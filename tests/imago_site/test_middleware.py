"""Site-wide security: the Content Security Policy and headers on every page, required 2FA for
therapists and staff, and the 12-hour / 30-idle-minute login limits."""

import re
import time

import pytest
from asgiref.sync import async_to_sync
from csp.utils import build_policy
from django.urls import reverse

from live import session_limits
from tests.factories import PASSWORD, StaffFactory, TherapistFactory
from tests.mfa import give_mfa, totp_code


def csp_of(response) -> dict[str, str]:
    policy = response["Content-Security-Policy"]
    return {part.split()[0]: part for part in (p.strip() for p in policy.split(";")) if part}


def page_urls(dialogue):
    return [
        "/",
        reverse("account_login"),
        reverse("account_signup"),
        reverse("account_reset_password"),
        reverse("account_email"),
        reverse("account_change_password"),
        reverse("mfa_index"),
        reverse("couples:your_data"),
        reverse("couples:account_delete"),
        reverse("dialogues:detail", args=[dialogue.public_id]),
        reverse("dialogues:transcript", args=[dialogue.public_id]),
        reverse("dialogues:new"),
        "/no-such-page/",
    ]


# --- Content Security Policy and headers ---------------------------------------------------


@pytest.mark.parametrize("who", ["alex", "anonymous"])
def test_every_page_has_the_csp_and_the_usual_headers(client_as, dialogue, who):
    client = client_as(who)
    for url in page_urls(dialogue):
        response = client.get(url)
        assert response.status_code in (200, 302, 404), url
        policy = csp_of(response)
        assert policy["script-src"] == "script-src 'self'", url
        assert policy["style-src"] == "style-src 'self'", url
        assert policy["frame-ancestors"] == "frame-ancestors 'none'", url
        assert policy["object-src"] == "object-src 'none'", url
        assert "unsafe" not in response["Content-Security-Policy"], url
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_our_pages_have_no_inline_scripts_or_styles(client_as, dialogue):
    client = client_as("alex")
    for url in page_urls(dialogue):
        body = client.get(url).content.decode()
        scripts = re.findall(r"<script\b([^>]*)>", body)
        assert all("src=" in attrs or "application/json" in attrs for attrs in scripts), url
        assert "<style" not in body, url
        assert " style=" not in body, url
        assert " hx-on" not in body and "javascript:" not in body, url


def test_htmx_is_configured_for_the_csp(client_as):
    body = client_as("alex").get("/").content.decode()
    config = re.search(r'<meta name="htmx-config" content=\'([^\']+)\'>', body)
    assert config and '"includeIndicatorStyles": false' in config[1]
    assert '"allowEval": false' in config[1]
    assert body.index("htmx-config") < body.index("htmx-2.min.js")


def test_the_admin_gets_the_same_csp_and_needs_nothing_inline(root, superuser):
    client = root
    for url in [
        "/admin/",
        "/admin/couples/user/",
        "/admin/security/auditevent/",
        "/admin/safety/supportresource/add/",  # people are not added in the admin
        f"/admin/couples/user/{superuser.pk}/change/",
        "/admin/dialogues/dialoguesession/",
        "/admin/mfa/authenticator/",
    ]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert response["Content-Security-Policy"] == build_policy()
        body = response.content.decode()
        scripts = re.findall(r"<script\b([^>]*)>", body)
        assert all("src=" in attrs for attrs in scripts), url
        assert "<style" not in body and " style=" not in body, url


# --- two-factor authentication required of therapists and staff -----------------------------


@pytest.fixture
def bare_therapist(db):
    """A therapist who hasn't set up two-factor authentication yet."""
    return TherapistFactory(email="fresh.dr@example.com", display_name="Dr. Fresh", mfa=False)


@pytest.fixture
def bare_staff(db):
    return StaffFactory(
        email="fresh.staff@example.com", display_name="Fresh Staff", is_superuser=True, mfa=False
    )


@pytest.mark.parametrize("person", ["bare_therapist", "bare_staff"])
@pytest.mark.parametrize(
    "url",
    ["/", "/admin/", "/admin/couples/user/", "/account/data/", "/dialogues/new/", "/couple/leave/"],
)
def test_therapists_and_staff_without_2fa_are_sent_to_set_it_up(client_as, person, url):
    client = client_as(person)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_activate_totp")


@pytest.mark.parametrize("person", ["bare_therapist", "bare_staff"])
def test_only_account_pages_answer_until_2fa_is_set_up(client_as, person):
    client = client_as(person)
    for url in [
        reverse("mfa_index"),
        reverse("account_email"),
        reverse("account_logout"),
        reverse("account_reauthenticate"),
    ]:
        assert client.get(url).status_code == 200, url
    # Just logged in: setting up doesn't ask for the password again (tests/couples/test_adapter.py).
    page = client.get(reverse("mfa_activate_totp"))
    assert page.status_code == 200 and b"data:image/svg+xml" in page.content
    assert client.get("/static/css/imago.css").status_code == 200
    # Nothing but a page opened is sent to the set-up page (tests below).
    assert client.post("/couple/leave/", headers={"HX-Request": "true"}).status_code == 403
    assert client.post(reverse("account_logout")).status_code == 302
    assert client.get("/").status_code == 200  # logged out: the public home page


BACKGROUND = {
    "htmx": {"HX-Request": "true"},
    "fetch": {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},
    "xhr": {"X-Requested-With": "XMLHttpRequest"},
}


@pytest.mark.parametrize("how", BACKGROUND)
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_background_request_without_2fa_is_refused_never_sent_to_set_it_up(
    client_as, bare_therapist, how, method
):
    client = client_as(bare_therapist)
    response = getattr(client, method)("/couple/leave/", headers=BACKGROUND[how])
    assert response.status_code == 403
    assert "Location" not in response and "HX-Redirect" not in response
    assert "two-factor authentication first" in response.json()["error"]
    # No message waits for the next page either: nothing was shown.
    assert "two-factor" not in client.get(reverse("mfa_index")).content.decode()


@pytest.mark.parametrize("person", ["bare_therapist", "bare_staff"])
def test_a_form_posted_without_2fa_is_refused_not_redirected(client_as, person):
    response = client_as(person).post("/couple/leave/")
    assert response.status_code == 403 and "Location" not in response


@pytest.mark.parametrize("person", ["bare_therapist", "bare_staff"])
def test_the_time_zone_and_language_a_page_sends_are_kept_before_2fa(
    client_as, user_in_role, person
):
    user = user_in_role(person)
    client = client_as(user)
    fetch = BACKGROUND["fetch"]
    zone = client.post(reverse("couples:time_zone"), {"time_zone": "Europe/Madrid"}, headers=fetch)
    assert zone.status_code == 200 and zone.json() == {"changed": True}
    language = client.post(reverse("couples:language"), {"language": "es", "next": "/"})
    assert language.status_code == 302
    user.refresh_from_db()
    assert (user.time_zone, user.language) == ("Europe/Madrid", "es")


def test_the_set_up_page_shows_the_same_secret_until_it_is_turned_on(client_as, bare_therapist):
    client = client_as(bare_therapist)
    activate = reverse("mfa_activate_totp")

    def secret_shown() -> str:
        page = client.get(activate).content.decode()
        return re.search(r'id="authenticator_secret"[^>]*value="(\w+)"', page).group(1)

    first = secret_shown()
    assert first and secret_shown() == first  # a reload, a second tab: the same QR code
    response = client.post(activate, {"code": totp_code(first)})
    assert response["Location"] == reverse("mfa_view_recovery_codes")
    assert bare_therapist.authenticator_set.filter(type="totp").exists()


@pytest.mark.django_db(transaction=True)  # allauth's "turned on" comes after its commit
def test_after_turning_it_off_the_set_up_page_shows_a_new_secret(client_as, bare_therapist):
    client = client_as(bare_therapist)
    activate = reverse("mfa_activate_totp")
    pattern = r'id="authenticator_secret"[^>]*value="(\w+)"'
    first = re.search(pattern, client.get(activate).content.decode()).group(1)
    client.post(activate, {"code": totp_code(first)})
    bare_therapist.authenticator_set.all().delete()  # staff reset a lost phone
    again = re.search(pattern, client.get(activate).content.decode()).group(1)
    assert again != first


@pytest.mark.parametrize("person", ["bare_therapist", "bare_staff"])
def test_with_2fa_they_get_in(user_in_role, client_as, person):
    user = user_in_role(person)
    give_mfa(user)
    client = client_as(user)
    assert client.get("/").status_code == 200
    if user.is_staff:
        assert client.get("/admin/").status_code == 200


def test_partners_are_not_asked_for_2fa_but_may_turn_it_on(client_as, alex):
    client = client_as(alex)
    assert client.get("/").status_code == 200
    assert client.get("/account/data/").status_code == 200
    page = client.get(reverse("account_email")).content.decode()
    assert reverse("mfa_index") in page and "Two-factor authentication" in page
    assert client.get(reverse("mfa_index")).status_code == 200


def test_a_staff_login_asks_for_the_authenticator_code(client, db):
    staff = StaffFactory(mfa=False)
    secret = give_mfa(staff)
    response = client.post(reverse("account_login"), {"login": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("mfa_authenticate")
    assert client.get("/admin/").status_code == 302  # not logged in yet
    response = client.post(reverse("mfa_authenticate"), {"code": totp_code(secret)})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


# --- session limits ----------------------------------------------------------------------


def age(client, *, login: float = 0, seen: float | None = None) -> None:
    """Pretend the login happened `login` seconds ago and the last request `seen` ago."""
    session = client.session
    now = time.time()
    session[session_limits.LOGIN_AT] = now - login
    session[session_limits.SEEN_AT] = now - (login if seen is None else seen)
    session.save()


def test_the_login_time_is_stored_at_login(client_as):
    client = client_as("alex")
    assert abs(client.session[session_limits.LOGIN_AT] - time.time()) < 5


@pytest.mark.parametrize("who", ["therapist", "staff"])
def test_therapists_and_staff_are_logged_out_after_30_idle_minutes(client_as, who):
    client = client_as(who)
    age(client, login=3600, seen=31 * 60)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")
    follow = client.get(response["Location"])
    assert "30 minutes without activity" in follow.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("who", ["therapist", "staff"])
def test_activity_keeps_them_logged_in(client_as, who):
    client = client_as(who)
    age(client, login=3600, seen=29 * 60)
    assert client.get("/").status_code == 200
    assert time.time() - client.session[session_limits.SEEN_AT] < 5
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("who", ["alex", "sam", "outsider", "single"])
def test_partners_are_logged_out_after_4_idle_hours(client_as, pair, who):
    client = client_as(who)
    age(client, login=5 * 3600, seen=4 * 3600 + 60)
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login") + "?next=")
    assert "4 hours without activity" in client.get(response["Location"]).content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("who", ["alex", "sam", "outsider", "single"])
def test_a_partner_active_within_4_hours_stays_logged_in(client_as, pair, who):
    client = client_as(who)
    age(client, login=5 * 3600, seen=4 * 3600 - 60)
    assert client.get("/").status_code == 200
    assert time.time() - client.session[session_limits.SEEN_AT] < 5  # the clock starts again
    assert client.get("/").status_code == 200


def test_a_partners_last_activity_is_written_at_most_every_5_minutes(client_as, pair):
    client = client_as("alex")
    age(client, login=3600, seen=4 * 60)
    client.get("/")
    assert time.time() - client.session[session_limits.SEEN_AT] > 4 * 60 - 5  # not rewritten
    age(client, login=3600, seen=6 * 60)
    client.get("/")
    assert time.time() - client.session[session_limits.SEEN_AT] < 5


def test_a_partners_open_live_page_keeps_their_login_active(client_as, pair):
    """The socket of a page left open (a dialogue waiting for the other's move) marks its
    login as live; a page request hours later still finds the person logged in."""
    client = client_as("alex")
    age(client, login=6 * 3600, seen=5 * 3600)
    async_to_sync(session_limits.live_mark)(client.session.session_key)
    assert client.get("/").status_code == 200
    assert time.time() - client.session[session_limits.SEEN_AT] < 5


def test_another_logins_live_page_does_not_keep_this_one(client_as, pair, alex):
    client, other = client_as(alex), client_as(alex)
    age(client, login=6 * 3600, seen=5 * 3600)
    async_to_sync(session_limits.live_mark)(other.session.session_key)
    assert client.get("/").status_code == 302


@pytest.mark.parametrize("who", ["therapist", "staff"])
def test_a_live_page_does_not_keep_therapists_or_staff_logged_in(client_as, who):
    client = client_as(who)
    age(client, login=3600, seen=31 * 60)
    async_to_sync(session_limits.live_mark)(client.session.session_key)
    assert client.get("/").status_code == 302


def test_partner_idle_minutes_is_a_setting_and_0_turns_it_off(client_as, pair, settings):
    settings.SESSION_IDLE_SECONDS_PARTNER = 90 * 60
    client = client_as("alex")
    age(client, login=3 * 3600, seen=91 * 60)
    response = client.get("/")
    assert response.status_code == 302
    assert "90 minutes without activity" in client.get(response["Location"]).content.decode()
    settings.SESSION_IDLE_SECONDS_PARTNER = 0
    client = client_as("alex")
    age(client, login=11 * 3600, seen=11 * 3600)
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("who", ["alex", "therapist", "staff"])
def test_everyone_is_logged_out_12_hours_after_logging_in(client_as, who):
    client = client_as(who)
    age(client, login=12 * 3600 + 5, seen=10)
    response = client.get("/")
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert "_auth_user_id" not in client.session


def test_an_expired_htmx_request_is_redirected_by_htmx(client_as, dialogue):
    client = client_as("alex")
    age(client, login=13 * 3600)
    response = client.post(
        reverse("dialogues:pause", args=[dialogue.public_id]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 204
    assert response["HX-Redirect"] == reverse("account_login")
    dialogue.refresh_from_db()
    assert dialogue.status == "active"  # nothing happened


def test_the_session_cookie_is_not_refreshed_by_requests(settings):
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    assert settings.SESSION_IDLE_SECONDS_STRICT == 30 * 60
    assert settings.SESSION_IDLE_SECONDS_PARTNER == 4 * 3600  # PARTNER_IDLE_MINUTES
