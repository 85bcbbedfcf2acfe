"""A call beside the dialogue in Chromium with fake camera and microphone: both partners and
their therapist join on a live dialogue and each page's peer connections reach `connected` with
inbound RTP bytes rising (getStats); audio only; leaving and rejoining; a withdrawn consent ends
the therapist's call; and, through a real coturn on loopback, a call forced through TURN."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from dialogues import services
from tests.browser.chromium import LAUNCH_ARGS, browser_required, chromium_path
from tests.browser.conftest import (
    DEFAULT_TIMEOUT_MS,
    LiveServer,
    _database_url,
    _free_port,
)
from tests.helpers import form_token, login_cookie

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("transactional_db")]

FAKE_MEDIA = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
TURNSERVER = "/usr/bin/turnserver"


@pytest.fixture(scope="module")
def media_browser(browser) -> Iterator:
    """Chromium with a fake camera and microphone, and permission granted without a prompt
    (the same Playwright as the session's browser)."""
    chromium = browser.browser_type.launch(
        executable_path=chromium_path(), args=[*LAUNCH_ARGS, *FAKE_MEDIA]
    )
    yield chromium
    chromium.close()


def pages_on(server_url: str, media_browser, request) -> tuple[Callable, list]:
    contexts: list = []

    def make(user, viewport: tuple[int, int] = (1280, 900)) -> Page:
        context = media_browser.new_context(
            base_url=server_url, viewport={"width": viewport[0], "height": viewport[1]}
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        if user is not None:  # None: nobody logged in yet (a brand-new person signs up)
            cookie = {"name": "sessionid", "value": login_cookie(user), "url": server_url}
            context.add_cookies([cookie])
        contexts.append(context)
        return context.new_page()

    return make, contexts


@pytest.fixture
def call_page(asgi_server, media_browser, request, artifacts_dir) -> Iterator[Callable]:
    make, contexts = pages_on(asgi_server.url, media_browser, request)
    yield make
    _close(contexts, request, artifacts_dir)


def _close(contexts, request, artifacts_dir) -> None:
    report = getattr(request.node, "report_call", None)
    for number, context in enumerate(contexts, start=1):
        if report is not None and report.failed:
            for page in context.pages:
                page.screenshot(path=artifacts_dir / f"FAILED-{request.node.name}-{number}.png")
        context.close()


@pytest.fixture
def live(link, dialogue, alex, sam):
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", at=1, token=form_token()
    )
    dialogue.refresh_from_db()
    return dialogue


# What each page's peer connections report: state, inbound RTP bytes, and the selected pair's
# local candidate type.
STATS = """async () => {
  const out = [];
  for (const pc of window.imagoCall.connections()) {
    const stats = await pc.getStats();
    let bytes = 0, audio = 0, video = 0, pair = null, candidates = {};
    stats.forEach((s) => {
      if (s.type === "inbound-rtp") {
        bytes += s.bytesReceived || 0;
        if (s.kind === "audio") audio += s.bytesReceived || 0;
        if (s.kind === "video") video += s.bytesReceived || 0;
      }
      if (s.type === "candidate-pair" && s.nominated && s.state === "succeeded") pair = s;
      if (s.type === "local-candidate") candidates[s.id] = s.candidateType;
    });
    out.push({state: pc.connectionState, bytes, audio, video,
              local: pair ? candidates[pair.localCandidateId] : null});
  }
  return out;
}"""


def wait_until(page: Page, script: str, arg: object = None, timeout: float = 30) -> None:
    """Evaluate `script` (a function) until it returns true. (Playwright's wait_for_function
    evaluates its predicate with eval, which the page's CSP rightly forbids.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(script, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"never true: {script}")
        page.wait_for_timeout(200)


def connections(page: Page, count: int) -> None:
    wait_until(page, f"() => window.imagoCall.connections().length === {count}")


def connected_with_media(page: Page, peers: int, *, video: bool = True) -> list[dict]:
    """Wait until the page holds `peers` connected peer connections whose inbound RTP bytes
    rise; their stats."""
    wait_until(
        page,
        f"() => window.imagoCall.connections().length === {peers} && "
        "window.imagoCall.connections().every(pc => pc.connectionState === 'connected')",
    )
    first = page.evaluate(STATS)
    wait_until(
        page,
        f"""async (before) => {{
          const now = await ({STATS})();
          // Video's first frames can follow the audio by a moment on a busy machine.
          return now.length === {peers} && now.every(
            (s, i) => s.bytes > before[i].bytes && ({"s.video > 0" if video else "true"})
          );
        }}""",
        first,
    )
    stats = page.evaluate(STATS)
    for s in stats:
        assert s["state"] == "connected" and s["audio"] > 0
        assert (s["video"] > 0) == video
    return stats


def join(page: Page, *, audio_only: bool = False) -> None:
    name = "Join with audio only" if audio_only else "Join with camera"
    expect(page.locator("[data-call]")).to_have_attribute("data-socket", "open")
    page.get_by_role("button", name=name).click()
    expect(page.locator("[data-call]")).to_have_attribute("data-joined", "yes")


def test_both_partners_and_the_therapist_join_and_media_flows_between_all_three(
    live, alex, sam, therapist, call_page, artifacts_dir
):
    a = call_page(alex)
    s = call_page(sam, viewport=(375, 800))
    t = call_page(therapist)
    a.goto(f"/dialogues/{live.public_id}/")
    s.goto(f"/dialogues/{live.public_id}/")
    t.goto(f"/therapist/dialogues/{live.public_id}/")
    # Nobody's camera turns on by itself: nobody is in the call until they click.
    for page in (a, s, t):
        expect(page.locator("[data-call-who]")).to_have_text("No one is in the call.")
        assert page.evaluate("window.imagoCall.connections().length") == 0
    join(a)
    expect(s.locator("[data-call-who]")).to_have_text("In the call: Alex")
    join(s)
    join(t)
    expect(a.locator("[data-call-who]")).to_have_text(
        "In the call: you, Sam, Dr. Rivera (therapist)"
    )
    for page in (a, s, t):
        connected_with_media(page, 2)
    # The move panel stays in view and usable at 375 px.
    panel = s.locator("#move-panel")
    expect(panel).to_be_visible()
    call_box = s.locator("#call").bounding_box()
    panel_box = panel.bounding_box()
    assert call_box is not None and panel_box is not None
    assert call_box["y"] + call_box["height"] <= panel_box["y"]  # above it, never over it
    assert not s.evaluate(
        "document.documentElement.scrollWidth > document.documentElement.clientWidth"
    )
    for name, page in (("dialogue", a), ("console", t)):
        for width in (375, 1280):
            page.set_viewport_size({"width": width, "height": 900})
            page.screenshot(path=artifacts_dir / f"call-{name}-{width}.png")
            assert not page.evaluate(
                "document.documentElement.scrollWidth > document.documentElement.clientWidth"
            ), f"the {name} page scrolls sideways at {width} px"
    s.screenshot(path=artifacts_dir / "call-phone-375.png")

    # Leaving keeps the dialogue; the others drop that peer; rejoining connects again.
    s.get_by_role("button", name="Leave the call").click()
    expect(s.locator("[data-call]")).to_have_attribute("data-joined", "no")
    expect(a.locator("[data-call-who]")).to_have_text("In the call: you, Dr. Rivera (therapist)")
    connections(a, 1)
    assert s.evaluate("window.imagoCall.connections().length") == 0
    expect(s.locator("#move-panel")).to_be_visible()
    join(s)
    for page in (a, s, t):
        connected_with_media(page, 2)


def test_an_audio_only_call_carries_sound_and_no_picture(live, alex, sam, call_page):
    a = call_page(alex)
    s = call_page(sam)
    a.goto(f"/dialogues/{live.public_id}/")
    s.goto(f"/dialogues/{live.public_id}/")
    join(a, audio_only=True)
    join(s, audio_only=True)
    expect(a.locator("[data-call-who]")).to_have_text("In the call: you, Sam, audio only")
    expect(a.get_by_role("button", name="Camera off")).to_be_hidden()
    for page in (a, s):
        connected_with_media(page, 1, video=False)
    # Muting is a choice the person sees.
    mute = a.get_by_role("button", name="Mute")
    mute.click()
    expect(mute).to_have_attribute("aria-pressed", "true")
    assert a.evaluate("window.imagoCall.connections()[0].getSenders()[0].track.enabled") is False


def test_a_withdrawn_consent_ends_the_therapists_call(live, link, alex, sam, therapist, call_page):
    a = call_page(alex)
    t = call_page(therapist)
    a.goto(f"/dialogues/{live.public_id}/")
    t.goto(f"/therapist/dialogues/{live.public_id}/")
    join(a)
    join(t)
    connected_with_media(a, 1)
    # Sam withdraws consent on the home page (through the server, as a person would).
    s = call_page(sam)
    s.goto("/")
    s.get_by_role("button", name="Withdraw consent for Dr. Rivera").click()
    expect(s.locator("#therapist-access")).to_contain_text("No therapist has access")
    expect(t.locator("[data-call]")).to_have_attribute("data-joined", "no")
    connections(t, 0)
    assert t.evaluate("Array.from(document.querySelectorAll('video')).every(v => !v.srcObject)")
    expect(a.locator("[data-call-who]")).to_have_text("In the call: you")
    connections(a, 0)


# --- through a real TURN server -------------------------------------------------------------


@pytest.fixture
def coturn() -> Iterator[dict]:
    """Debian's coturn on loopback, with coturn's REST-API secret (use-auth-secret)."""
    if not Path(TURNSERVER).exists():
        message = f"BROWSER TESTS SKIPPED: {TURNSERVER} not found (apt-get install -y coturn)"
        if browser_required():
            pytest.fail(f"IMAGO_REQUIRE_BROWSER=1 but {message}", pytrace=False)
        pytest.skip(message)
    port = _free_port()
    secret = "relay-test-" + form_token()
    workdir = Path(tempfile.mkdtemp(prefix="imago-coturn-"))
    command = [
        TURNSERVER,
        "-n",  # no configuration file: everything is here
        "--no-cli",
        "--listening-ip=127.0.0.1",
        "--relay-ip=127.0.0.1",
        f"--listening-port={port}",
        "--min-port=49160",
        "--max-port=49200",
        "--allow-loopback-peers",  # coturn refuses loopback peers by default
        "--allowed-peer-ip=127.0.0.1",
        "--use-auth-secret",
        f"--static-auth-secret={secret}",
        "--realm=imago.test",
        "--no-tls",
        "--no-dtls",
        "--fingerprint",
        f"--log-file={workdir / 'turn.log'}",
        "--simple-log",
        f"--pidfile={workdir / 'turn.pid'}",
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while True:
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"coturn did not start: {_log(workdir)}", pytrace=False)
            time.sleep(0.1)
        yield {"port": port, "secret": secret, "log": workdir}
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def _log(workdir: Path) -> str:
    logs = list(workdir.glob("turn*.log"))
    return logs[0].read_text(errors="replace")[-4000:] if logs else "(no log)"


@pytest.fixture
def relay_server(coturn, _email_dir, django_db_blocker, monkeypatch) -> Iterator[LiveServer]:
    """A server of its own whose browsers must relay every call through that coturn."""
    from django.db import connection

    monkeypatch.setenv("TURN_URLS", f"turn:127.0.0.1:{coturn['port']}?transport=udp")
    monkeypatch.setenv("TURN_SECRET", coturn["secret"])
    monkeypatch.setenv("ICE_TRANSPORT_POLICY", "relay")
    with django_db_blocker.unblock():
        url = _database_url(connection.settings_dict)
    server = LiveServer(database_url=url, email_dir=_email_dir)
    try:
        server.wait_until_ready()
        yield server
    finally:
        server.stop()


def test_a_call_forced_through_turn_connects_with_time_limited_credentials(
    live, alex, sam, coturn, relay_server, media_browser, request, artifacts_dir
):
    make, contexts = pages_on(relay_server.url, media_browser, request)
    try:
        a = make(alex)
        s = make(sam)
        a.goto(f"/dialogues/{live.public_id}/")
        s.goto(f"/dialogues/{live.public_id}/")
        join(a)
        join(s)
        for page in (a, s):
            (stats,) = connected_with_media(page, 1)
            assert stats["local"] == "relay"  # through coturn, not host to host
            config = page.evaluate("window.imagoCall.connections()[0].getConfiguration()")
            assert config["iceTransportPolicy"] == "relay"
            (server,) = config["iceServers"]
            expires = int(server["username"].split(":")[0])
            assert time.time() < expires <= time.time() + 24 * 3600  # hours, not days
    finally:
        _close(contexts, request, artifacts_dir)


def test_in_a_booked_session_a_partner_waits_until_the_therapist_lets_them_in(
    link, pair, alex, sam, therapist, call_page, artifacts_dir
):
    from datetime import UTC, datetime, timedelta

    from couples.models import User
    from therapists import services as therapist_services

    User.objects.filter(pk=therapist.pk).update(time_zone="UTC")
    therapist.refresh_from_db()
    at = datetime.now(UTC) + timedelta(hours=2)
    booked = therapist_services.facilitated_book(
        therapist=therapist,
        couple=pair,
        day=at.date().isoformat(),
        time=at.strftime("%H:%M"),
        minutes=45,
        first=sam.public_id,
    )
    slot = booked.slot_of(sam)
    s = call_page(sam, viewport=(375, 800))
    t = call_page(therapist)
    t.goto(f"/therapist/dialogues/{booked.public_id}/")
    s.goto(f"/dialogues/{booked.public_id}/")
    row = t.locator(f'#waiting-room [data-waiting-slot="{slot}"]')
    expect(row).to_contain_text("not waiting yet")
    expect(s.locator("[data-call]")).to_have_attribute("data-socket", "open")
    s.get_by_role("button", name="Join with camera").click()
    expect(s.locator("[data-call]")).to_have_attribute("data-joined", "waiting")
    expect(s.locator("[data-call-waiting]")).to_have_text("Your therapist will let you in shortly.")
    expect(row).to_contain_text("waiting to join the call")
    t.get_by_role("button", name="Join with camera").click()
    t.screenshot(path=artifacts_dir / "call-waiting-room-console.png")
    s.screenshot(path=artifacts_dir / "call-waiting-room-phone.png")
    assert s.evaluate("window.imagoCall.connections().length") == 0  # nothing before admission
    t.get_by_role("button", name="Let Sam in").click()
    expect(s.locator("[data-call]")).to_have_attribute("data-joined", "yes")
    expect(row).to_contain_text("let into the call")
    for page in (s, t):
        connected_with_media(page, 1)


COUNT_MEDIA_ASKS = """
window.mediaAsks = 0;
if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
  const ask = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = (c) => { window.mediaAsks += 1; return ask(c); };
}
"""


def test_the_camera_is_asked_for_only_on_a_click_and_without_one_the_dialogue_goes_on(
    live, alex, page_as
):
    # The session's own Chromium: no fake camera or microphone, no permission given.
    a = page_as(alex, viewport="phone")
    a.add_init_script(COUNT_MEDIA_ASKS)
    a.goto(f"/dialogues/{live.public_id}/")
    expect(a.locator("[data-call]")).to_have_attribute("data-socket", "open")
    assert a.evaluate("window.mediaAsks") == 0  # nothing asked on load
    a.get_by_role("button", name="Join with camera").click()
    alert = a.locator("[data-call-error]")
    expect(alert).to_be_visible()
    expect(alert).to_contain_text("take part in the dialogue")  # denied, or no device
    assert a.evaluate("window.mediaAsks") == 1
    expect(a.locator("[data-call]")).to_have_attribute("data-joined", "no")
    assert a.evaluate("window.imagoCall.connections().length") == 0
    # The dialogue itself goes on: Alex sends the first step.
    a.locator("#move-panel textarea").first.fill("When the week is busy I feel far from you.")
    a.locator("#move-panel").get_by_role("button", name="Send").click()
    expect(a.locator("#transcript")).to_contain_text("When the week is busy I feel far from you.")


def test_the_camera_turns_off_and_on_for_everyone_in_the_call(live, alex, sam, call_page):
    a = call_page(alex)
    s = call_page(sam)
    a.goto(f"/dialogues/{live.public_id}/")
    s.goto(f"/dialogues/{live.public_id}/")
    join(a)
    join(s)
    connected_with_media(a, 1)
    camera = a.get_by_role("button", name="Camera off")
    camera.click()
    expect(camera).to_have_attribute("aria-pressed", "true")
    assert a.evaluate(
        "window.imagoCall.connections()[0].getSenders()"
        ".filter(s => s.track && s.track.kind === 'video').every(s => !s.track.enabled)"
    )
    camera.click()
    expect(camera).to_have_attribute("aria-pressed", "false")


def test_a_brand_new_couple_signs_up_pairs_and_talks_beside_their_first_dialogue(
    call_page, mailbox
):
    """Accounts made in the browser (no second factor, a time zone only as the browser says)
    rather than fixtures."""
    from couples.models import User
    from dialogues import services as dialogue_services
    from tests.browser.test_pairing import sign_up
    from tests.factories import screen

    alice = call_page(None)
    alice.goto("/accounts/signup/")
    sign_up(alice, mailbox, name="Alice", email="alice@example.com")
    alice.get_by_role("button", name="Start our couple").click()
    link = alice.get_by_label("Invitation link").input_value()
    bob = call_page(None, viewport=(375, 800))
    bob.goto(link)
    bob.get_by_role("main").get_by_role("link", name="Create an account").click()
    sign_up(bob, mailbox, name="Bob", email="bob@example.com")
    bob.get_by_role("button", name="Accept and pair up").click()
    expect(bob.get_by_role("heading", name="You're paired with Alice")).to_be_visible()
    a, b = User.objects.get(email="alice@example.com"), User.objects.get(email="bob@example.com")
    screen(a)
    screen(b)
    session = dialogue_services.dialogue_start(user=a, kind="intentional", topic="Our mornings")
    dialogue_services.move_submit(
        session_public_id=session.public_id, user=b, move="accept_now", at=1, token=form_token()
    )
    for page in (alice, bob):
        page.goto(f"/dialogues/{session.public_id}/")
    join(alice)
    join(bob, audio_only=True)
    expect(alice.locator("[data-call-who]")).to_have_text("In the call: you, Bob, audio only")
    connected_with_media(bob, 1)
    expect(bob.locator("#move-panel")).to_be_visible()
