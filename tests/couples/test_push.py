"""Web Push (couples/push.py), proved against a push service of our own on loopback
(tests/push_service.py): the real HTTP request, the VAPID signature checked, the payload
decrypted with the browser's private keys — and nothing private in it. Then turning pushes on
and off as each role, the choices per kind, and every way a subscription ends."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from django_tasks_db.models import DBTaskResult

from couples import devices, push, services
from couples.models import NotificationChoice, PushMessage, PushSubscription, login_id
from tests.conftest import ROLES, TEST_BROWSER
from tests.push_service import ON, run_push_jobs, subscribe

OFF = reverse("couples:push_unsubscribe")


# --- the real protocol --------------------------------------------------------------------------


def test_a_push_arrives_encrypted_signed_and_without_private_text(
    client_as, alex, dialogue, service
):
    phone = service.browser()
    subscribe(client_as(alex), phone)
    path = reverse("dialogues:detail", args=[dialogue.public_id])
    push.notify(person=alex, kind=push.YOUR_MOVE, key=f"{dialogue.public_id}:1", path=path)
    assert run_push_jobs() == [push.SENT]
    (got,) = service.received
    assert got.data == {
        "title": "It's your move",
        "body": "Your partner is waiting for your next step.",
        "url": push.settings.SITE_URL + path,
        "tag": "imago-your_move",
    }
    assert got.vapid_key == push.settings.VAPID_PUBLIC_KEY  # signed by our key, for its origin
    assert got.claims["sub"] == "mailto:push@imago.example"
    # Not a word of the dialogue: not its topic, not in the clear on the wire either.
    assert dialogue.topic not in got.plaintext.decode()
    assert dialogue.topic.encode() not in got.body and b"your move" not in got.body.lower()


def test_the_push_is_in_the_persons_language(client_as, alex, dialogue, service):
    alex.language = "es"
    alex.save(update_fields=["language"])
    subscribe(client_as(alex), service.browser())
    push.notify(person=alex, kind=push.ASKED, key="k", path="/")
    run_push_jobs()
    assert service.received[0].data["title"] == "Tu pareja quiere hablar"


def test_every_device_of_the_person_gets_it_and_no_one_elses(client_as, alex, sam, service):
    phone, laptop, sams = service.browser(), service.browser(), service.browser()
    subscribe(client_as(alex), phone)
    subscribe(client_as(alex), laptop)
    subscribe(client_as(sam), sams)
    push.notify(person=alex, kind=push.STARTING, key="s1", path="/", minutes=15)
    run_push_jobs()
    paths = sorted(r.path for r in service.received)
    assert paths == sorted(b.endpoint.removeprefix(service.origin) for b in (phone, laptop))
    assert service.received[0].data["title"] == "A dialogue starts in 15 minutes"


def test_the_same_event_twice_is_one_push(client_as, alex, service):
    subscribe(client_as(alex), service.browser())
    first = push.notify(person=alex, kind=push.ADMITTED, key="session-1", path="/")
    assert first is not None
    assert push.notify(person=alex, kind=push.ADMITTED, key="session-1", path="/") is None
    assert run_push_jobs() == [push.SENT]
    assert push.push_deliver(message_id=first.pk).result == push.SKIPPED  # delivered once
    assert len(service.received) == 1


@pytest.mark.parametrize("status", [404, 410])
def test_a_subscription_the_push_service_says_is_gone_is_removed(client_as, alex, service, status):
    subscribe(client_as(alex), service.browser())
    service.status = status
    push.notify(person=alex, kind=push.SEGMENT, key="w1", path="/")
    run_push_jobs()
    assert not PushSubscription.objects.filter(person=alex).exists()


def test_a_failed_push_is_retried_on_that_device_then_recorded(client_as, alex, service, settings):
    settings.IMAGO_JOB_RETRIES = 1
    subscribe(client_as(alex), service.browser())
    service.status = 500
    message = push.notify(person=alex, kind=push.YOUR_MOVE, key="x", path="/")
    with pytest.raises(Exception, match="500"):
        push.push_send.call(message.pk)
    retry = DBTaskResult.objects.filter(task_path="couples.push.push_send").exclude(
        args_kwargs__args__1=None
    )
    retry = [job for job in retry if len(job.args_kwargs["args"]) == 3]
    assert len(retry) == 1 and retry[0].run_after > push.clock.now()  # later, not at once
    _id, attempt, only = retry[0].args_kwargs["args"]
    assert attempt == 2 and only == list(PushSubscription.objects.values_list("pk", flat=True))
    with pytest.raises(Exception, match="500"):
        push.push_send.call(message.pk, 2, only)
    message.refresh_from_db()
    assert message.failed_at is not None and message.last_error == "WebPushException"
    assert message.attempts == 2


def test_a_failed_device_is_retried_alone(client_as, alex, service, settings):
    good, bad = service.browser(), service.browser()
    subscribe(client_as(alex), good)
    subscribe(client_as(alex), bad)
    PushSubscription.objects.filter(endpoint=bad.endpoint).update(
        endpoint=bad.endpoint.replace("/push/", "/broken/")
    )
    message = push.notify(person=alex, kind=push.YOUR_MOVE, key="x", path="/")
    with pytest.raises(Exception):  # noqa: B017 (the unknown path's error)
        push.push_send.call(message.pk)
    assert len(service.received) == 1  # the good device got it, once
    service.errors.clear()


def test_no_push_without_keys_devices_or_wish(client_as, alex, service, settings):
    assert push.notify(person=alex, kind=push.YOUR_MOVE, key="a", path="/") is None  # no device
    subscribe(client_as(alex), service.browser())
    push.choices_set(user=alex, choices={push.YOUR_MOVE: "email"})
    assert push.notify(person=alex, kind=push.YOUR_MOVE, key="b", path="/") is None
    settings.VAPID_PRIVATE_KEY = ""
    assert push.notify(person=alex, kind=push.ASKED, key="c", path="/") is None
    assert not PushMessage.objects.exists()


def test_a_push_links_only_to_our_own_pages(alex, vapid):
    for path in ("https://evil.example/", "//evil.example/", "javascript:alert(1)"):
        with pytest.raises(ValueError):
            push.notify(person=alex, kind=push.YOUR_MOVE, key="k", path=path)
    with pytest.raises(ValueError):
        push.notify(person=alex, kind="anything", key="k", path="/")


def test_the_sweep_sends_what_a_killed_worker_left_and_only_that(client_as, alex, service):
    subscribe(client_as(alex), service.browser())
    message = push.notify(person=alex, kind=push.YOUR_MOVE, key="k", path="/")
    DBTaskResult.objects.filter(task_path="couples.push.push_send").delete()  # the worker died
    assert push.push_deliver_due() == 0  # not due for the sweep yet: its own job may still run
    push.clock.clock_set(push.clock.now() + push.SWEEP_EVERY * 2)
    try:
        assert push.push_deliver_due() == 1
        assert push.push_deliver_due() == 0
    finally:
        push.clock.clock_set(None)
    message.refresh_from_db()
    assert message.sent_at is not None and len(service.received) == 1


# --- choices per kind --------------------------------------------------------------------------


def test_the_default_is_push_with_a_device_and_email_without(client_as, alex, service):
    assert push.channels_for(user=alex, kind=push.STARTING) == {"email"}
    subscribe(client_as(alex), service.browser())
    assert push.channels_for(user=alex, kind=push.STARTING) == {"push"}
    assert set(push.choices_of(user=alex).values()) == {"push"}


def test_your_move_emails_turned_off_before_means_none_by_default(alex, vapid):
    alex.your_move_emails = False
    assert push.channels_for(user=alex, kind=push.YOUR_MOVE) == set()
    assert push.channels_for(user=alex, kind=push.STARTING) == {"email"}


def test_both_means_both_and_push_needs_a_device(client_as, alex, service):
    push.choices_set(user=alex, choices={push.ASKED: "both"})
    assert push.channels_for(user=alex, kind=push.ASKED) == {"email"}  # no device yet
    subscribe(client_as(alex), service.browser())
    assert push.channels_for(user=alex, kind=push.ASKED) == {"email", "push"}


def test_settings_page_saves_each_kinds_choice(client_as, alex, vapid):
    client = client_as(alex)
    page = client.get(reverse("couples:account_settings")).content.decode()
    for kind in push.KINDS:
        assert f'name="notify_{kind}"' in page
    assert f'data-vapid-key="{vapid}"' in page
    form = {"language": "en-gb", "time_zone": "Europe/Madrid"}
    form.update({f"notify_{kind}": "neither" for kind in push.KINDS})
    form["notify_starting"] = "both"
    response = client.post(reverse("couples:account_settings"), form)
    assert response.status_code == 302
    chosen = dict(NotificationChoice.objects.filter(person=alex).values_list("kind", "how"))
    assert chosen == {**{kind: "neither" for kind in push.KINDS}, "starting": "both"}
    alex.refresh_from_db()
    assert alex.your_move_emails is False  # the "your move" emails follow the choice


@pytest.mark.parametrize("bad", ["", "sms", "x" * 5000, "push\x00", "<b>push</b>"])
def test_settings_page_refuses_an_unknown_choice(client_as, alex, bad):
    form = {"language": "en-gb", "time_zone": "Europe/Madrid", "notify_asked": bad}
    response = client_as(alex).post(reverse("couples:account_settings"), form)
    assert response.status_code in (400, 422)
    assert not NotificationChoice.objects.exists()


# --- turning on and off, as each role ----------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_turning_on_as_each_role(role, user_in_role, client_as, service):
    person = user_in_role(role)
    response = client_as(role).post(
        ON,
        json.dumps(service.browser().subscription()),
        content_type="application/json",
        HTTP_USER_AGENT=TEST_BROWSER,
    )
    if person is None:
        assert response.status_code == 302 and not PushSubscription.objects.exists()
        return
    assert response.status_code == 201
    (saved,) = PushSubscription.objects.all()
    assert saved.person == person and saved.device_name == "Firefox on Linux"


def test_turning_on_twice_is_one_subscription_and_a_new_owner_takes_it(
    client_as, alex, sam, service
):
    phone = service.browser()
    subscribe(client_as(alex), phone)
    subscribe(client_as(alex), phone)
    assert PushSubscription.objects.get().person == alex
    subscribe(client_as(sam), phone)  # the phone changed hands
    assert PushSubscription.objects.get().person == sam


def bad_subscriptions(service):
    good = service.browser().subscription()
    yield "", "empty"
    yield "null", "null"
    yield "x" * 5000, "too long"
    yield json.dumps({**good, "endpoint": ""}), "no endpoint"
    yield json.dumps({**good, "endpoint": good["endpoint"] + "\x00"}), "NUL"
    yield json.dumps({**good, "endpoint": "javascript:alert(1)"}), "script"
    yield json.dumps({**good, "endpoint": "ftp://127.0.0.1/x"}), "scheme"
    yield json.dumps({**good, "keys": {"p256dh": "<b>", "auth": good["keys"]["auth"]}}), "markup"
    yield json.dumps({**good, "keys": {"p256dh": good["keys"]["p256dh"], "auth": "AAAA"}}), "short"
    yield json.dumps({**good, "keys": "nope"}), "keys"
    yield json.dumps([good]), "list"


def test_turning_on_refuses_bad_input_with_a_message(client_as, alex, service):
    client = client_as(alex)
    for body, what in bad_subscriptions(service):
        response = client.post(ON, body, content_type="application/json")
        assert response.status_code in (400, 413), what
        assert response.json()["error"], what
    assert not PushSubscription.objects.exists()


def test_turning_on_refuses_plain_http_push_services_in_production(
    client_as, alex, service, settings
):
    settings.IMAGO_PUSH_HTTP_ENDPOINTS = False
    response = client_as(alex).post(
        ON, json.dumps(service.browser().subscription()), content_type="application/json"
    )
    assert response.status_code == 400
    assert "push service" in response.json()["error"]


def test_turning_on_without_keys_on_the_server_says_so(client_as, alex, settings):
    settings.VAPID_PUBLIC_KEY = settings.VAPID_PRIVATE_KEY = ""
    response = client_as(alex).post(ON, "{}", content_type="application/json")
    assert response.status_code == 400 and "set up" in response.json()["error"]


def test_get_is_not_allowed(client_as, alex):
    assert client_as(alex).get(ON).status_code == 405
    assert client_as(alex).get(OFF).status_code == 405


@pytest.mark.parametrize("role", ROLES)
def test_the_devices_page_lists_and_turns_off_only_your_own(
    role, user_in_role, client_as, alex, service
):
    subscribe(client_as(alex), service.browser())
    alexs = PushSubscription.objects.get()
    person = user_in_role(role)
    client = client_as(role)
    response = client.post(OFF, {"subscription": alexs.public_id})
    if person is None:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login")
    elif person == alex:
        assert response.status_code == 302
        assert not PushSubscription.objects.exists()
        return
    else:
        assert response.status_code == 302
        page = client.get(reverse("couples:devices")).content.decode()
        assert alexs.public_id not in page
    assert PushSubscription.objects.filter(pk=alexs.pk).exists()


def test_the_devices_page_shows_which_devices_get_notifications(client_as, alex, service):
    client = client_as(alex)
    subscribe(client, service.browser())
    page = client.get(reverse("couples:devices")).content.decode()
    assert "Notifications" in page and "Firefox on Linux" in page
    assert PushSubscription.objects.get().public_id in page


@pytest.mark.parametrize("bad", ["", "x" * 500, "abc\x00", "<script>"])
def test_turning_off_refuses_bad_ids(client_as, alex, bad):
    response = client_as(alex).post(OFF, {"subscription": bad})
    assert response.status_code == 400


def test_the_browser_turns_its_own_off_by_endpoint(client_as, alex, sam, service):
    phone = service.browser()
    subscribe(client_as(alex), phone)
    # Someone else can't turn it off, even knowing the endpoint.
    body = json.dumps({"endpoint": phone.endpoint})
    assert client_as(sam).post(OFF, body, content_type="application/json").json() == {"removed": 0}
    assert client_as(alex).post(OFF, body, content_type="application/json").json() == {"removed": 1}
    assert not PushSubscription.objects.exists()


# --- every way a subscription ends -------------------------------------------------------------


def test_logging_out_on_a_device_ends_that_devices_pushes_only(client_as, alex, service):
    phone, laptop = client_as(alex), client_as(alex)
    subscribe(phone, service.browser())
    subscribe(laptop, service.browser())
    phone.post(reverse("account_logout"))
    (left,) = PushSubscription.objects.all()
    assert left.login == login_id(laptop.session.session_key)


def test_signing_a_device_out_from_another_ends_its_pushes(client_as, alex, service):
    phone, laptop = client_as(alex), client_as(alex)
    subscribe(phone, service.browser())
    phone_row = devices.UserSession.objects.get(session_key=phone.session.session_key)
    laptop.post(reverse("couples:devices"), {"device": devices.device_id(phone_row)})
    assert not PushSubscription.objects.exists()


def test_deleting_the_account_ends_every_push(client_as, alex, service):
    subscribe(client_as(alex), service.browser())
    push.choices_set(user=alex, choices={push.ASKED: "both"})
    push.notify(person=alex, kind=push.ASKED, key="k", path="/")
    services.account_delete(user=alex)
    assert not PushSubscription.objects.exists()
    assert not PushMessage.objects.exists() and not NotificationChoice.objects.exists()
    assert run_push_jobs() == [push.SKIPPED]
    assert service.received == []


def test_vapid_keys_command_prints_a_working_pair(capsys):
    from cryptography.hazmat.primitives import serialization
    from django.core.management import call_command
    from py_vapid import Vapid

    call_command("vapid_keys")
    lines = dict(line.split("=", 1) for line in capsys.readouterr().out.split())
    signer = Vapid.from_string(lines["VAPID_PRIVATE_KEY"])  # what pywebpush reads
    public = signer.public_key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    assert push.base64.urlsafe_b64decode(lines["VAPID_PUBLIC_KEY"] + "=") == public


def test_after_a_key_rotation_old_subscriptions_are_dropped_and_pages_carry_the_new_key(
    client_as, alex, service, settings
):
    client = client_as(alex)
    subscribe(client, service.browser())
    old_key = settings.VAPID_PUBLIC_KEY
    assert f'data-push-key="{old_key}"' in client.get(reverse("home")).content.decode()
    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = push.vapid_pair()
    assert push.channels_for(user=alex, kind=push.YOUR_MOVE) == {"email"}  # no device yet
    page = client.get(reverse("home")).content.decode()
    assert f'data-push-key="{settings.VAPID_PUBLIC_KEY}"' in page  # the browser resubscribes
    fresh = service.browser()
    subscribe(client, fresh)
    push.notify(person=alex, kind=push.YOUR_MOVE, key="k", path="/")
    run_push_jobs()
    assert [r.path for r in service.received] == [fresh.endpoint.removeprefix(service.origin)]
    assert PushSubscription.objects.get().server_key == settings.VAPID_PUBLIC_KEY


def test_only_a_signed_in_person_is_given_the_push_key(client, vapid):
    assert "data-push-key" not in client.get(reverse("home")).content.decode()


def test_the_settings_page_says_on_only_for_the_login_that_turned_it_on(client_as, alex, service):
    phone, laptop = client_as(alex), client_as(alex)
    subscribe(phone, service.browser())
    assert "data-push-here" in phone.get(reverse("couples:account_settings")).content.decode()
    assert "data-push-here" not in laptop.get(reverse("couples:account_settings")).content.decode()


def test_your_data_lists_the_devices_and_choices_but_no_push_address(client_as, alex, service):
    client = client_as(alex)
    phone = service.browser()
    subscribe(client, phone)
    push.choices_set(user=alex, choices={push.STARTING: "both"})
    data = client.get(reverse("couples:your_data_export")).json()
    assert data["notifications"]["devices"][0]["name"] == "Firefox on Linux"
    assert data["notifications"]["choices"] == {"starting": "both"}
    assert phone.endpoint not in json.dumps(data)


@pytest.mark.parametrize("role", ROLES)
def test_the_settings_page_offers_the_choices_to_each_role(role, user_in_role, client_as, vapid):
    response = client_as(role).get(reverse("couples:account_settings"))
    if user_in_role(role) is None:
        assert response.status_code == 302
        return
    page = response.content.decode()
    assert response.status_code == 200
    assert "How we let you know" in page and "Turn on notifications for this device" in page
    assert page.count('<select id="notify-') == len(push.KINDS)
