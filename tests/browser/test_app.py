"""The installed app in Chromium (issue 31): the service worker registers and controls the
page, the manifest is linked and valid, the app shell opens offline with the last-known home
(and never a private page), logging out forgets it; notifications turned on from Settings
(the permission asked on that click), and a push shown with no private text."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from couples.models import PushSubscription

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]


def _controlled(page) -> None:
    """Wait until the service worker is active and controls this page."""
    page.evaluate("() => navigator.serviceWorker.ready")
    if not page.evaluate("() => !!navigator.serviceWorker.controller"):
        page.reload()
    page.wait_for_function("() => !!navigator.serviceWorker.controller")


def test_the_app_installs_and_opens_offline_without_private_pages(
    page_as, alex, dialogue, artifacts_dir
):
    page = page_as(alex, viewport="phone")
    page.goto("/")  # the manifest's start_url: what the installed app opens at
    _controlled(page)
    page.screenshot(path=str(artifacts_dir / "app-start-375.png"))
    manifest_url = page.get_attribute("link[rel=manifest]", "href")
    assert manifest_url == "/manifest.webmanifest"
    manifest = page.evaluate(
        "url => fetch(url).then(r => r.json().then(j => [r.headers.get('content-type'), j]))",
        manifest_url,
    )
    assert manifest[0] == "application/manifest+json"
    data = manifest[1]
    assert data["display"] == "standalone" and data["start_url"] == "/"
    for icon in data["icons"]:  # every icon loads, at its size
        size = page.evaluate(
            """src => new Promise((ok, no) => { const i = new Image(); i.onload = () =>
               ok(i.naturalWidth + "x" + i.naturalHeight); i.onerror = no; i.src = src; })""",
            icon["src"],
        )
        assert size == icon["sizes"]
    assert page.evaluate("() => navigator.serviceWorker.controller.scriptURL").endswith("/sw.js")
    greeting = page.inner_text("h1")
    # What the worker keeps: public files and the offline page only.
    kept = page.evaluate(
        """async () => { const out = [];
           for (const name of await caches.keys()) {
             const cache = await caches.open(name);
             for (const req of await cache.keys()) out.push(new URL(req.url).pathname);
           } return out; }"""
    )
    assert "/offline/" in kept
    assert all(path == "/offline/" or path.startswith("/static/") for path in kept), kept

    page.context.set_offline(True)
    page.goto("/")
    assert page.inner_text("h1") == "You're offline"
    page.wait_for_selector("#last-home:not([hidden])")
    assert greeting in page.inner_text("#last-home")
    page.screenshot(path=str(artifacts_dir / "app-offline-375.png"))
    assert dialogue.topic not in page.content()
    assert page.evaluate("() => getComputedStyle(document.body).backgroundColor") == (
        "rgb(248, 245, 240)"  # the stylesheet came from the worker's cache
    )
    page.goto(reverse("dialogues:detail", args=[dialogue.public_id]))
    assert page.inner_text("h1") == "You're offline"  # never the dialogue, even offline
    assert dialogue.topic not in page.content()

    # Logging out forgets the last-known home: the next person sees none of it.
    page.context.set_offline(False)
    page.goto(reverse("account_logout"))
    page.click("main form button[type=submit]")
    page.wait_for_url("**/")
    page.context.set_offline(True)
    page.goto("/")
    assert page.inner_text("h1") == "You're offline"
    assert page.is_hidden("#last-home")
    assert greeting not in page.content()


# Headless Chromium can't make a real push subscription here: in Playwright's (incognito)
# contexts pushManager.subscribe() fails with "Registration failed - permission denied", and in
# a persistent profile it waits for Google's push service (FCM), which this machine can't
# reach. Chromium has no way to use another push service. So the page's own subscribe() is
# answered with a subscription to our loopback push service (tests/push_service.py: its keys
# are a browser's); everything else is real: the permission asked on the click, the page
# posting the subscription, the server's encrypted, signed push, and the service worker
# showing it (delivered through the DevTools protocol, as the browser would).
FAKE_SUBSCRIBE = """
(subscription) => {
  window.__askedWithKey = null;
  let current = null;
  const make = () => ({
    endpoint: subscription.endpoint,
    options: { applicationServerKey: window.__askedWithKey },
    toJSON: () => subscription,
    unsubscribe: () => { current = null; return Promise.resolve(true); },
  });
  PushManager.prototype.subscribe = function (options) {
    window.__askedWithKey = options.applicationServerKey.buffer;
    current = make();
    return Promise.resolve(current);
  };
  PushManager.prototype.getSubscription = function () { return Promise.resolve(current); };
}
"""


def _registration_id(page) -> str:
    cdp = page.context.new_cdp_session(page)
    found: list[dict] = []
    cdp.on("ServiceWorker.workerRegistrationUpdated", lambda event: found.append(event))
    cdp.send("ServiceWorker.enable")
    scope = page.evaluate("() => navigator.serviceWorker.ready.then(r => r.scope)")
    for _ in range(50):
        for event in found:
            for registration in event["registrations"]:
                if registration["scopeURL"] == scope:
                    return cdp, registration["registrationId"]
        page.wait_for_timeout(100)
    raise AssertionError(f"no registration for {scope}: {found}")


def test_notifications_turn_on_from_settings_and_a_push_shows_no_private_text(
    page_as, alex, dialogue, settings, artifacts_dir
):
    from couples import push
    from tests.browser.conftest import SERVER_VAPID
    from tests.push_service import PushService, run_push_jobs

    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = SERVER_VAPID  # the server's
    settings.IMAGO_PUSH_HTTP_ENDPOINTS = True
    with PushService() as service:
        phone = service.browser()
        page = page_as(alex, viewport="phone")
        page.goto(reverse("couples:account_settings"))
        _controlled(page)
        page.evaluate(FAKE_SUBSCRIBE, phone.subscription())
        assert page.evaluate("() => Notification.permission") == "default"  # not asked yet
        page.context.grant_permissions(["notifications"])  # the person says yes to the prompt
        page.click("text=Turn on notifications for this device")
        page.wait_for_selector("[data-push-when=on]:not([hidden])")
        assert page.inner_text("[data-push-status]") == "Notifications are on for this device."
        asked = page.evaluate(
            "() => btoa(String.fromCharCode(...new Uint8Array(window.__askedWithKey)))"
        )
        assert push.base64.b64decode(asked) == push.base64.urlsafe_b64decode(
            SERVER_VAPID[0] + "="
        )  # subscribed with our VAPID public key
        (saved,) = PushSubscription.objects.filter(person=alex)
        assert saved.endpoint == phone.endpoint and saved.device_name
        page.screenshot(
            path=str(artifacts_dir / "app-notification-settings-375.png"), full_page=True
        )

        # The server pushes; our push service checks the signature and decrypts it.
        push.notify(
            person=alex,
            kind=push.YOUR_MOVE,
            key="browser",
            path=reverse("dialogues:detail", args=[dialogue.public_id]),
        )
        assert run_push_jobs() == ["sent"]
        (received,) = service.received
        assert received.vapid_key == SERVER_VAPID[0]
        assert not service.errors

        # The worker gets exactly what was decrypted, and shows it.
        cdp, registration_id = _registration_id(page)
        cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": page.evaluate("() => location.origin"),
                "registrationId": registration_id,
                "data": received.plaintext.decode(),
            },
        )
        shown = []
        for _ in range(50):  # until the worker has shown it
            shown = page.evaluate(
                """() => navigator.serviceWorker.ready.then(r => r.getNotifications()).then(ns =>
                   ns.map(n => ({title: n.title, body: n.body, data: n.data, tag: n.tag})))"""
            )
            if shown:
                break
            page.wait_for_timeout(100)
        assert shown == [
            {
                "title": "It's your move",
                "body": "Your partner is waiting for your next step.",
                "data": {"url": received.data["url"]},
                "tag": "imago-your_move",
            }
        ]
        assert received.data["url"].endswith(f"/dialogues/{dialogue.public_id}/")
        assert dialogue.topic not in json.dumps(shown)

        # Turned off on this device: the server forgets it.
        page.click("text=Turn off for this device")
        page.wait_for_selector("[data-push-when=off]:not([hidden])")
        assert not PushSubscription.objects.filter(person=alex).exists()


def test_turning_on_asks_nothing_until_the_click_and_says_when_it_fails(page_as, alex, settings):
    page = page_as(alex, viewport="phone")
    page.goto(reverse("couples:account_settings"))
    _controlled(page)
    assert page.evaluate("() => Notification.permission") == "default"
    page.context.grant_permissions(["notifications"])
    page.click("text=Turn on notifications for this device")  # Chromium's own subscribe fails
    page.wait_for_function("() => document.querySelector('[data-push-status]').textContent")
    assert page.inner_text("[data-push-status]") == "That didn't work. Please try again."
    assert page.is_visible("text=Turn on notifications for this device")
    assert not PushSubscription.objects.exists()


def test_a_brand_new_account_turns_notifications_on_and_sees_the_device(
    new_page, mailbox, settings, artifacts_dir
):
    """Signed up a minute ago (no time zone chosen, no second factor): Settings, turn on,
    the Devices page lists this phone with its own "Turn off"; logging out ends it."""
    from couples.models import User
    from tests.browser.conftest import SERVER_VAPID
    from tests.browser.test_pairing import sign_up
    from tests.push_service import PushService

    settings.VAPID_PUBLIC_KEY, settings.VAPID_PRIVATE_KEY = SERVER_VAPID
    with PushService() as service:
        page = new_page(viewport="phone")
        page.goto("/accounts/signup/")
        sign_up(page, mailbox, name="Noa", email="noa@example.com")
        page.wait_for_url("**/")
        noa = User.objects.get(email="noa@example.com")
        page.get_by_role("link", name="Settings").click()
        _controlled(page)
        page.evaluate(FAKE_SUBSCRIBE, service.browser().subscription())
        page.context.grant_permissions(["notifications"])
        page.click("text=Turn on notifications for this device")
        page.wait_for_selector("[data-push-when=on]:not([hidden])")
        page.get_by_role("link", name="See which devices get your notifications").click()
        (saved,) = PushSubscription.objects.filter(person=noa)
        device = page.locator("#push-devices-title + p + ul li")
        assert device.count() == 1 and saved.device_name in device.inner_text()
        page.screenshot(path=str(artifacts_dir / "app-devices-375.png"), full_page=True)
        page.get_by_role("link", name="Log out").click()
        page.get_by_role("main").get_by_role("button", name="Log out").click()
        page.wait_for_url("**/")
        assert not PushSubscription.objects.filter(person=noa).exists()
