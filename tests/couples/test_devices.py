"""The signed-in devices page (allauth's user sessions, couples/devices.py): each person sees
their own logins and signs out one other device, or all of them; that login's live sockets
close by event."""

from __future__ import annotations

import pytest
from allauth.usersessions.models import UserSession
from channels.db import database_sync_to_async
from django.urls import reverse

import live
from couples.devices import device_id, device_name
from security.models import AuditEvent
from tests.conftest import ROLES
from tests.sockets import drain, open_socket, path_of, receive_until

URL = "/accounts/sessions/"
PHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1"
)


def _row(client) -> UserSession:
    return UserSession.objects.get(session_key=client.session.session_key)


def _as_phone(client, ip: str = "203.0.113.5") -> UserSession:
    row = _row(client)
    row.user_agent, row.ip = PHONE, ip
    row.save()
    return row


def _logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_it_is_allauths_page_address_and_in_the_account_menu(client_as, alex):
    assert reverse("couples:devices") == URL == reverse("usersessions_list")
    page = client_as(alex).get(reverse("account_email")).content.decode()
    assert f'href="{URL}"' in page and ">Devices<" in page


@pytest.mark.parametrize("role", ROLES)
def test_each_person_sees_only_their_own_devices(role, user_in_role, client_as, pair, outsider):
    other = client_as(outsider)
    _as_phone(other, ip="198.51.100.77")
    person = user_in_role(role)
    client = client_as(role)
    response = client.get(URL)
    if person is None:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        return
    assert response.status_code == 200
    page = response.content.decode()
    assert "Signed-in devices" in page and "Firefox on Linux" in page and "This device" in page
    if person != outsider:
        assert "198.51.100.77" not in page and "Safari on iPhone" not in page
    assert "no-store" in response["Cache-Control"]


def test_it_lists_every_login_of_the_person_this_one_first(client_as, alex):
    laptop, phone = client_as(alex), client_as(alex)
    _as_phone(phone)
    page = laptop.get(URL).content.decode()
    assert (
        page.index("Firefox on Linux") < page.index("This device") < page.index("Safari on iPhone")
    )
    assert "203.0.113.5" in page
    assert page.count('name="device"') == 1  # only the other device has its own button
    assert "Sign out all other devices" in page
    assert phone.session.session_key not in page  # the key never leaves its cookie


def test_it_says_when_there_is_no_other_device(client_as, alex):
    page = client_as(alex).get(URL).content.decode()
    assert "aren't logged in anywhere else" in page
    assert 'name="device"' not in page and "Sign out all other" not in page


@pytest.mark.parametrize("role", ["alex", "sam", "outsider", "therapist", "staff"])
def test_it_signs_out_one_other_device(role, user_in_role, client_as, pair, link):
    person = user_in_role(role)
    laptop, phone, tablet = client_as(person), client_as(person), client_as(person)
    response = laptop.post(URL, {"device": device_id(_as_phone(phone))})
    assert response.status_code == 302 and response["Location"] == URL
    assert not _logged_in(phone) and phone.get(reverse("home")).status_code == 200
    assert "That device is signed out." in laptop.get(URL).content.decode()
    assert _logged_in(laptop) and _logged_in(tablet)
    assert not UserSession.objects.filter(session_key=phone.session.session_key).exists()
    event = AuditEvent.objects.get(action="auth.device_signed_out")
    assert event.actor == person and event.target_id == person.public_id


def test_it_signs_out_all_the_other_devices(client_as, alex, sam):
    laptop, phone, tablet, sams = (
        client_as(alex),
        client_as(alex),
        client_as(alex),
        client_as(sam),
    )
    assert laptop.post(URL).status_code == 302
    assert _logged_in(laptop) and not _logged_in(phone) and not _logged_in(tablet)
    assert _logged_in(sams)  # nobody else's
    assert list(UserSession.objects.filter(user=alex)) == [_row(laptop)]
    assert AuditEvent.objects.filter(action="auth.device_signed_out").count() == 2


def test_nobody_signs_out_anothers_device(client_as, alex, sam, outsider, therapist, staff):
    sams = client_as(sam)
    target = device_id(_row(sams))
    for person in (alex, outsider, therapist, staff):
        client = client_as(person)
        response = client.post(URL, {"device": target})
        assert response.status_code == 302
        assert "already signed out" in client.get(URL).content.decode()
    assert _logged_in(sams)
    assert not AuditEvent.objects.filter(action="auth.device_signed_out").exists()


def test_this_device_is_not_signed_out_here_and_bad_ids_change_nothing(client_as, alex):
    laptop, phone = client_as(alex), client_as(alex)
    for device in [device_id(_row(laptop)), "", "x" * 5000, "<b>", str(_row(phone).pk)]:
        assert laptop.post(URL, {"device": device}).status_code == 302
    assert _logged_in(laptop) and _logged_in(phone)


def test_a_replayed_sign_out_changes_nothing_more(client_as, alex):
    laptop, phone = client_as(alex), client_as(alex)
    form = {"device": device_id(_row(phone))}
    laptop.post(URL, form)
    laptop.post(URL, form)
    assert AuditEvent.objects.filter(action="auth.device_signed_out").count() == 1
    assert _logged_in(laptop)


def test_anonymous_can_sign_nothing_out(client, client_as, alex):
    phone = client_as(alex)
    response = client.post(URL, {"device": device_id(_row(phone))})
    assert response.status_code == 302 and reverse("account_login") in response["Location"]
    assert _logged_in(phone)


def test_deactivation_and_deletion_forget_the_devices(client_as, alex, staff):
    from couples import services

    client_as(alex), client_as(alex)
    services.user_deactivate(user=alex, by=staff)
    assert not UserSession.objects.filter(user=alex).exists()


def test_the_admin_does_not_show_devices(root):
    assert root.get("/admin/usersessions/usersession/").status_code == 404


@pytest.mark.parametrize(
    ("agent", "name"),
    [
        (PHONE, "Safari on iPhone"),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
            "Edge on Windows",
        ),
        (
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/131.0.0.0 Mobile Safari/537.36",
            "Chrome on Android",
        ),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) Version/18.1 Safari/605.1.15",
            "Safari on Mac",
        ),
        (
            "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
            "Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
            "Chrome on iPad",
        ),
        ("curl/8.5.0", "curl"),  # not a browser, but named as what it is
        ("", "An unknown browser"),
        ("Mozilla/5.0 (compatible)", "An unknown browser"),
    ],
)
def test_devices_are_named_the_way_people_know_them(agent, name):
    assert device_name(agent) == name


# --- the signed-out device's live pages --------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("path", ["dialogue", "/ws/home/"])
async def test_signing_out_a_device_closes_its_sockets_and_no_others(dialogue, alex, path):
    where = path_of(dialogue) if path == "dialogue" else path
    phone, connected, _ = await open_socket(where, alex)
    assert connected
    laptop, connected, _ = await open_socket(where, alex)
    assert connected
    await drain(phone)
    await drain(laptop)
    phone_key = phone.http_client.session.session_key

    def sign_out_the_phone() -> int:
        row = UserSession.objects.get(session_key=phone_key)
        return laptop.http_client.post(URL, {"device": device_id(row)}).status_code

    assert await database_sync_to_async(sign_out_the_phone)() == 302
    for _ in range(10):
        output = await phone.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            assert output["code"] == 4401
            break
    else:
        raise AssertionError("the signed-out device's socket stayed open")
    # The laptop's socket is still there and answers (the home page's hears its couple).
    if path == "dialogue":
        await laptop.send_to(text_data='{"type": "ping"}')
        assert 'id="pong"' in await receive_until(laptop, 'id="pong"')
    else:
        await database_sync_to_async(live.send)(
            live.couple_group(dialogue.couple_id), {"type": "couple.changed"}
        )
        assert "home-dialogues" in await receive_until(laptop, "home-dialogues")
    await laptop.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_new_password_signs_out_the_other_devices_and_closes_their_sockets(dialogue, alex):
    from tests.factories import PASSWORD

    phone, connected, _ = await open_socket(path_of(dialogue), alex)
    assert connected
    await drain(phone)
    laptop = phone.http_client.__class__()

    def change_password_on_the_laptop() -> int:
        laptop.post(
            reverse("account_login"),
            {"login": alex.email, "password": PASSWORD},
            REMOTE_ADDR="203.0.113.9",
        )
        new = "a-brand-new-passphrase"
        return laptop.post(
            reverse("account_change_password"),
            {"oldpassword": PASSWORD, "password1": new, "password2": new},
            REMOTE_ADDR="203.0.113.9",
        ).status_code

    assert await database_sync_to_async(change_password_on_the_laptop)() == 302
    for _ in range(10):
        output = await phone.receive_output(timeout=3)
        if output["type"] == "websocket.close":
            assert output["code"] == 4401
            break
    else:
        raise AssertionError("the other device's socket stayed open after a new password")

    def state() -> tuple[bool, bool, int]:
        return (
            "_auth_user_id" in phone.http_client.session,
            "_auth_user_id" in laptop.session,
            UserSession.objects.filter(user=alex).count(),
        )

    assert await database_sync_to_async(state)() == (False, True, 1)
