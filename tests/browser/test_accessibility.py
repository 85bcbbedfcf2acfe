"""Every page, as each kind of person, at a phone's 375 px and a desktop's 1280 px in Chromium:
no axe-core violations, no console errors, nothing wider than the screen.

The pages come from the URLconf: every route is either a page below (its ids from the people
and data the fixtures make) or excluded with a reason, so a new route fails
`test_every_route_is_a_page_or_excluded` until it is classified. Each role visits every page
(where a role may not see a page, what it gets instead, a log-in form, a 403 or a 404, is
checked too); a page already checked for that role, such as the log-in form again, is checked
once. Admin pages are discovered from admin.site._registry like tests/imago_site/
test_admin_privacy.py, so a newly registered model is covered without a line here.

axe-core is vendored from its npm package (tests/browser/vendor/, with its licence) and injected
in a browser context that bypasses the page's Content-Security-Policy, in this test only; the
console errors are read from a second context with the policy enforced, so a blocked inline
style or script still counts as an error.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from couples.models import User
from dialogues import services as dialogue_services
from dialogues.models import DialogueSession
from safety.models import SupportResource
from security.models import CspReport
from tests.factories import (
    StaffFactory,
    TherapistFactory,
    UserFactory,
    link_with_consent,
    make_couple,
    make_invitation,
    screen,
)
from tests.helpers import at_mirror, form_token, login_cookie
from therapists import services as therapist_services

AXE = Path(__file__).with_name("vendor") / "axe.min.js"
WIDTHS = (375, 1280)
ROLES = ("anonymous", "partner", "therapist", "staff")

# Routes that aren't pages a person opens, each with the reason. Everything else is visited.
EXCLUDED: dict[str, str] = {
    # Forms post to these; a GET is refused (405) or redirected, and the page the form is on is
    # visited instead.
    "couples:start": "POST only: the form is on the home page",
    "couples:leave": "POST only: the form is on the home page",
    "couples:invitation_new": "POST only: the form is on the home page",
    "couples:invitation_revoke": "POST only: the form is on the home page",
    "security:csp_report": "the browser's CSP report endpoint (POST, JSON), not a page",
    "couples:your_data_export": "a JSON download, not a page",
    "safety:answer": "POST only: the form is on the private page",
    "safety:ready": "POST only: the form is on the private page",
    "safety:share": "POST only: the form is on the private page",
    "dialogues:move": "POST only (htmx): the form is on the dialogue page",
    "dialogues:pause": "POST only (htmx): the button is on the dialogue page",
    "dialogues:writing_aids": "POST only (htmx): a fragment beside the writer's text box",
    "dialogues:my_mirrors": "a fragment of a finished dialogue's page (htmx), not a page",
    "dialogues:resume": "POST only (htmx): the button is on the dialogue page",
    "dialogues:end": "POST only (htmx): the button is on the dialogue page",
    "dialogues:aloud": "POST only (htmx): the switch is on the dialogue page",
    "dialogues:together": "POST only (htmx): the button is on the dialogue page",
    "therapists:code_new": "POST only: the form is on the dashboard",
    "therapists:accept": "POST only: the button is on the dashboard",
    "therapists:link_end": "POST only: the button is on the couple page",
    "therapists:couple_note": "POST only: the form is on the couple page",
    "therapists:homework_new": "POST only: the form is on the couple page",
    "therapists:dialogue_new": "POST only: the form is on the couple page",
    "therapists:coach": "POST only (htmx): the form is on the console",
    "therapists:rewind": "POST only (htmx): the form is on the console",
    "therapists:pause": "POST only (htmx): the button is on the console",
    "therapists:resume": "POST only (htmx): the button is on the console",
    "therapists:end": "POST only (htmx): the button is on the console",
    "therapists:session_note": "POST only: the form is on the console",
    "therapists:book": "POST only: the form is on the couple page",
    "therapists:book_move": "POST only: the form is on the couple page",
    "therapists:book_cancel": "POST only: the button is on the couple page",
    "therapists:book_open": "POST only (htmx): the button is on a booked session's console",
    "therapists:homework_done": "POST only: the button is on the home page",
    "therapists:code_enter": "POST only: the form is on the home page",
    "therapists:therapist_invite": "POST only: the form is on the home page",
    "therapists:consent_give": "POST only: the button is on the home page",
    "therapists:consent_decline": "POST only: the button is on the home page",
    "therapists:consent_withdraw": "POST only: the button is on the home page",
    "therapists:call_admit": "POST only: the waiting room's buttons are on the console",
    "couples:two_factor_hint_dismiss": "POST only: the button is on the home page",
    "couples:time_zone": "POST only: the page's script sends the browser's zone",
    "couples:language": "POST only: the language chooser in every page's footer",
    "couples:push_subscribe": "POST only (JSON): the settings page's script turns pushes on",
    "couples:push_unsubscribe": "POST only: the buttons are on the devices and settings pages",
    "manifest": "the web app manifest (JSON), not a page",
    "service_worker": "the service worker's script, not a page",
    "couples:calendar_feed_new": "POST only: the form is on the account settings page",
    "couples:calendar_feed_revoke": "POST only: the form is on the account settings page",
    "couples:device_sharing": "POST only: the form is on the account settings page",
    "usersessions_list": "allauth's own address for it answers with couples:devices (visited)",
    "dialogues:cancel": "POST only: the button is on the dialogue and home pages",
    "dialogues:feed": "a calendar file (.ics) for calendar apps, not a page",
    "dialogues:calendar": "a scheduled dialogue's calendar file (.ics), a download",
    "practice:agreement_done": "POST only (htmx): the button is on the home page",
    "practice:agreement_thanks": "POST only (htmx): the form is on the home page",
    "practice:agreement_days": "POST only (htmx): the form is on the home page",
    "practice:caring_add": "POST only: the form is on the caring page",
    "practice:caring_remove": "POST only: the button is on the caring page",
    "practice:caring_share": "POST only: the button is on the caring page",
    "practice:caring_give": "POST only: the button is on the caring page",
    "practice:caring_acknowledge": "POST only: the button is on the caring page",
    "practice:reflection_share": "POST only: the buttons are on the reflection page",
    "practice:exit_add": "POST only: the form is on the exits page",
    "practice:measure_skip": "POST only: the button is on the home and questionnaire pages",
    "practice:measure_share": "POST only: the buttons are on the progress page",
    "therapists:couple_measures": "POST only: the forms are on the therapist's couple page",
    "practice:exit_remove": "POST only: the button is on the exits page",
    "practice:exit_close": "POST only: the form is on the exits page",
    "mfa_download_recovery_codes": "a text file download, not a page",
    "account_confirm_login_code": "logging in by emailed code is off: answers 404 (checked)",
    "therapists:workshop_edit": "POST only: the form is on the workshop board",
    "therapists:workshop_segment_add": "POST only: the form is on the workshop board",
    "therapists:workshop_segment_remove": "POST only: the button is on the workshop board",
    "therapists:workshop_segment_start": "POST only: the button is on the workshop board",
    "therapists:workshop_announce": "POST only: the form is on the workshop board",
    "therapists:workshop_reconvene": "POST only: the button is on the workshop board",
    "therapists:workshop_resume": "POST only: the button is on the workshop board",
    "therapists:workshop_end": "POST only: the button is on the workshop board",
    "therapists:workshop_help_answered": "POST only: the button is on the workshop board",
    "therapists:workshop_help": "POST only: the button is on the workshop room",
    "therapists:workshop_reading": "POST only: the button is on the workshop room",
    "admin:jsi18n": "JavaScript for the admin, not a page",
    "admin:autocomplete": "JSON for the admin's search boxes, not a page",
    "admin:view_on_site": "a redirect to the object's own page",
    "admin:logout": "POST only: the admin's log-out button",
    "admin/<model>/<path:object_id>/": "redirects to the change page (visited)",
    "(?P<url>.*)$": "the admin's catch-all: answers 404 (the 404 page is visited)",
}


def routes() -> Iterator[str]:
    """Every route in the URLconf: its name, or for admin's unnamed ones a pattern."""

    def walk(patterns, prefix: str, namespace: str) -> Iterator[str]:
        for p in patterns:
            if isinstance(p, URLResolver):
                inner = f"{namespace}:{p.namespace}" if namespace and p.namespace else p.namespace
                yield from walk(p.url_patterns, prefix + str(p.pattern), inner or namespace)
            elif isinstance(p, URLPattern):
                if p.name:
                    yield f"{namespace}:{p.name}" if namespace else p.name
                elif str(p.pattern) == "<path:object_id>/":
                    yield "admin/<model>/<path:object_id>/"
                else:
                    yield str(p.pattern)

    yield from walk(get_resolver().url_patterns, "", "")


@dataclass
class World:
    """The people and the data every page needs (ids for the routes that take one)."""

    alex: User
    therapist: User
    staff: User
    live: DialogueSession
    past: DialogueSession
    booked: DialogueSession  # a facilitated session booked for next week
    couple_public_id: str
    invitation_token: str
    reset_path: str
    workshop: str  # a workshop Dr. Rivera presents, Alex and Sam in it, a practice started
    workshop_code: str


def make_world() -> World:
    alex = UserFactory(email="alex@example.com", display_name="Alex")
    sam = UserFactory(email="sam@example.com", display_name="Sam")
    couple, _, _ = make_couple(alex, sam)
    screen(alex)
    screen(sam)
    therapist = TherapistFactory(email="dr@example.com", display_name="Dr. Rivera")
    link_with_consent(therapist, alex, sam)
    past = dialogue_services.dialogue_start(user=alex, kind="appreciation", topic="Thank you")
    dialogue_services.session_end(session_public_id=past.public_id, user=alex)
    live = dialogue_services.dialogue_start(user=alex, kind="intentional", topic="Sundays")
    dialogue_services.move_submit(
        session_public_id=live.public_id, user=sam, move="accept_now", token=form_token()
    )
    live = at_mirror(live, alex, sam)  # a few turns to read, and Alex's move
    therapist_services.homework_assign(
        therapist=therapist,
        couple=couple,
        title="An appreciation a day",
        dialogue_kind="appreciation",
        token=form_token(),
    )
    therapist_services.note_add(
        therapist=therapist,
        couple=couple,
        text="Calmer this week.",
        session=past,
        token=form_token(),
    )
    booked = therapist_services.facilitated_book(
        therapist=therapist,
        couple=couple,
        day=(timezone.now() + timedelta(days=7)).date().isoformat(),
        time="18:00",
        minutes=60,
    )
    staff = StaffFactory(email="stan@example.com", display_name="Stan")
    staff.user_permissions.add(*Permission.objects.all())  # every admin page opens
    robin = UserFactory(email="robin@example.com", display_name="Robin")
    _, token = make_invitation(robin)
    CspReport.objects.create(directive="style-src-attr", blocked="inline", document="/")
    SupportResource.objects.get_or_create(
        country="GB", country_name="United Kingdom", kind="crisis", name="Kind Line", phone="0800 1"
    )
    from allauth.account.forms import default_token_generator
    from allauth.account.utils import user_pk_to_url_str

    reset = reverse(
        "account_reset_password_from_key",
        kwargs={"uidb36": user_pk_to_url_str(sam), "key": default_token_generator.make_token(sam)},
    )
    from therapists.workshops import services as workshop_services

    workshop = workshop_services.workshop_create(
        presenter=therapist,
        title="Weekend",
        starts_at=timezone.now(),
        stream_url="",
        token=form_token(),
    )
    workshop_services.segment_add(
        workshop=workshop,
        kind="practise",
        text="Mirror one appreciation.",
        dialogue_kind="appreciation",
        minutes=10,
        token=form_token(),
    )
    for person in (alex, sam):
        workshop_services.workshop_join(user=person, code=workshop.code)
    workshop_services.workshop_announce(
        workshop=workshop, kind="message", text="Welcome, everyone.", token=form_token()
    )
    workshop_services.segment_start(
        workshop=workshop, segment_public_id=workshop.segments.get().public_id
    )
    return World(
        alex=alex,
        therapist=therapist,
        staff=staff,
        live=live,
        past=past,
        booked=booked,
        couple_public_id=couple.public_id,
        invitation_token=token,
        reset_path=reset,
        workshop=workshop.public_id,
        workshop_code=workshop.code,
    )


def admin_pages(world: World) -> dict[str, list[str]]:
    """Every registered model's admin pages, for one object of it."""
    pages: dict[str, list[str]] = {
        "admin:index": [reverse("admin:index")],
        "admin:login": [reverse("admin:login")],
        "admin:password_change": [reverse("admin:password_change")],
        "admin:password_change_done": [reverse("admin:password_change_done")],
        "admin:auth_user_password_change": [
            reverse("admin:auth_user_password_change", args=[world.alex.pk])
        ],
        "admin:app_list": [],
    }
    labels = set()
    for model in admin.site._registry:
        meta = model._meta
        labels.add(meta.app_label)
        obj = model._default_manager.order_by("pk").first()
        assert obj is not None, f"make_world() makes no {meta.label}: its admin pages need one"
        base = f"admin:{meta.app_label}_{meta.model_name}"
        pages[f"{base}_changelist"] = [reverse(f"{base}_changelist")]
        pages[f"{base}_add"] = [reverse(f"{base}_add")]
        for action in ("change", "history", "delete"):
            pages[f"{base}_{action}"] = [reverse(f"{base}_{action}", args=[obj.pk])]
    pages["admin:app_list"] = [reverse("admin:app_list", args=[label]) for label in sorted(labels)]
    return pages


def pages(world: World) -> dict[str, list[str]]:
    """Every page: route name -> the paths to visit."""
    live, past = world.live.public_id, world.past.public_id
    site: dict[str, list[str]] = {
        "home": ["/"],
        "notes": [reverse("notes")],
        "offline": [reverse("offline")],
        "couples:invitation": [
            reverse("couples:invitation", args=[world.invitation_token]),
            reverse("couples:invitation", args=["no-such-invitation"]),  # its "can't be used"
        ],
        "couples:your_data": [reverse("couples:your_data")],
        "couples:account_delete": [reverse("couples:account_delete")],
        "safety:page": [reverse("safety:page"), reverse("safety:page") + "?retake=1"],
        "dialogues:new": [reverse("dialogues:new")],
        "dialogues:detail": [
            reverse("dialogues:detail", args=[live]),
            reverse("dialogues:detail", args=[world.booked.public_id]),
        ],
        "dialogues:transcript": [reverse("dialogues:transcript", args=[past])],
        "therapists:dashboard": [reverse("therapists:dashboard")],
        "therapists:couple": [reverse("therapists:couple", args=[world.couple_public_id])],
        "therapists:console": [
            reverse("therapists:console", args=[live]),
            reverse("therapists:console", args=[world.booked.public_id]),
        ],
        "therapists:transcript": [reverse("therapists:transcript", args=[past])],
        "account_reset_password_from_key": [world.reset_path],
        "couples:account_settings": [reverse("couples:account_settings")],
        "couples:devices": [reverse("couples:devices")],
        "practice:caring": [reverse("practice:caring")],
        "practice:progress": [reverse("practice:progress")],
        "practice:reflection": [reverse("practice:reflection")],
        "practice:exits": [reverse("practice:exits")],
        "practice:measure": [
            reverse("practice:measure", args=["csi4"]),
            reverse("practice:measure", args=["csi16"]),
        ],
        "therapists:workshops": [reverse("therapists:workshops")],
        "therapists:workshop": [reverse("therapists:workshop", args=[world.workshop])],
        "therapists:workshop_room": [reverse("therapists:workshop_room", args=[world.workshop])],
        "therapists:workshop_join": [reverse("therapists:workshop_join")],
        "therapists:workshop_join_code": [
            reverse("therapists:workshop_join_code", args=[world.workshop_code])
        ],
        "therapists:couple_progress": [
            reverse("therapists:couple_progress", args=[world.couple_public_id])
        ],
    }
    for name in (
        "account_login",
        "account_logout",
        "account_inactive",
        "account_signup",
        "account_reauthenticate",
        "account_email",
        "account_email_verification_sent",
        "account_change_password",
        "account_set_password",
        "account_reset_password",
        "account_reset_password_from_key_done",
        "account_reset_password_done",
        "mfa_index",
        "mfa_authenticate",
        "mfa_reauthenticate",
        "mfa_activate_totp",
        "mfa_deactivate_totp",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
    ):
        site[name] = [reverse(name)]
    site["404"] = ["/no-such-page/"]
    return site | admin_pages(world)


def test_every_route_is_a_page_or_excluded(db):
    world = make_world()
    visited = set(pages(world)) - {"404"}
    found = set(routes())
    assert not visited & set(EXCLUDED), "a route is both visited and excluded"
    assert found - visited - set(EXCLUDED) == set(), "classify these routes: a page, or why not"
    assert visited - found == set(), "pages listed for routes that no longer exist"


@dataclass
class Finding:
    role: str
    width: int
    path: str
    what: str

    def __str__(self) -> str:
        return f"[{self.role} {self.width}px] {self.path}: {self.what}"


def person_for(role: str, world: World) -> User | None:
    return {"partner": world.alex, "therapist": world.therapist, "staff": world.staff}.get(role)


def open_context(browser, url: str, user: User | None, *, bypass_csp: bool):
    context = browser.new_context(
        base_url=url, viewport={"width": WIDTHS[0], "height": 800}, bypass_csp=bypass_csp
    )
    context.set_default_timeout(15_000)
    if user is not None:
        context.add_cookies([{"name": "sessionid", "value": login_cookie(user), "url": url}])
    return context


OVERFLOW_JS = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= width) return [];
  return [...document.querySelectorAll('body *')]
    .filter(e => e.getBoundingClientRect().right > width + 1)
    .slice(0, 5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + ' '
              + Math.round(e.getBoundingClientRect().right) + 'px');
}"""

AXE_JS = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations']});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.slice(0, 3).map(n => n.target.join(' ')),
  }));
}"""


class Checker:
    """Two tabs on the same login: `watched` with the site's CSP (console errors, overflow)
    and `audited` bypassing it (axe injected). Both are taken to the same page, then checked."""

    def __init__(self, browser, url: str, user: User | None, role: str) -> None:
        self.url, self.role = url, role
        self.findings: list[Finding] = []
        self.errors: list[str] = []
        self.seen: set[tuple[str, int]] = set()
        self.strict = open_context(browser, url, user, bypass_csp=False)
        self.relaxed = open_context(browser, url, user, bypass_csp=True)
        self.watched, self.audited = self.strict.new_page(), self.relaxed.new_page()
        self.watched.on("console", self._console)
        self.watched.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.axe = AXE.read_text()

    def _console(self, message) -> None:
        if message.type == "error":
            self.errors.append(f"{message.text} ({message.location.get('url', '')})")

    def close(self) -> None:
        self.strict.close()
        self.relaxed.close()

    def visit(self, path: str) -> None:
        """Open `path` in both tabs and check it, unless this role has seen where it leads."""
        self.errors.clear()
        response = self.watched.goto(path, wait_until="load")
        status = response.status if response else 0
        key = (self.watched.url.split("?")[0], status)
        if key in self.seen:
            return
        self.seen.add(key)
        self.audited.goto(path, wait_until="load")
        self.check(path, status)

    def check(self, label: str, status: int = 200) -> None:
        """Check the page both tabs are on now."""
        self.watched.wait_for_timeout(200)  # late console errors (sockets, scripts)
        page_url = self.watched.url.split("?")[0]
        for error in self.errors:
            # The page's own non-2xx status (a 403 or 404 page) is the point of it.
            if status >= 400 and "Failed to load resource" in error and page_url in error:
                continue
            self.findings.append(Finding(self.role, 0, label, f"console error: {error}"))
        self.errors.clear()
        self.audited.add_script_tag(content=self.axe)
        for width in WIDTHS:
            for page in (self.watched, self.audited):
                page.set_viewport_size({"width": width, "height": 800})
            overflow = self.watched.evaluate(OVERFLOW_JS)
            if overflow:
                self.findings.append(Finding(self.role, width, label, f"too wide: {overflow}"))
            for v in self.audited.evaluate(AXE_JS):
                what = f"axe {v['id']} ({v['impact']}): {v['help']} {json.dumps(v['nodes'])}"
                self.findings.append(Finding(self.role, width, label, what))
        self.watched.set_viewport_size({"width": WIDTHS[0], "height": 800})
        self.audited.set_viewport_size({"width": WIDTHS[0], "height": 800})

    def both(self, act: Callable) -> None:
        act(self.watched)
        act(self.audited)


def report(findings: list[Finding]) -> str:
    return "\n" + "\n".join(str(f) for f in findings)


@pytest.mark.browser
@pytest.mark.parametrize("role", ROLES)
def test_every_page_is_accessible_and_fits(role, live_server_url, browser, transactional_db):
    world = make_world()
    checker = Checker(browser, live_server_url, person_for(role, world), role)
    try:
        for _name, paths in sorted(pages(world).items()):
            for path in paths:
                checker.visit(path)
    finally:
        checker.close()
    assert not checker.findings, report(checker.findings)
    assert len(checker.seen) >= 10, checker.seen  # the pages really were visited


@pytest.mark.browser
def test_axe_is_really_run(live_server_url, browser, transactional_db):
    """The sweep would pass silently if axe never ran: it finds an image with no text."""
    checker = Checker(browser, live_server_url, None, "anonymous")
    try:
        checker.visit(reverse("notes"))
        assert checker.findings == []
        checker.both(
            lambda page: page.evaluate("document.querySelector('main').append(new Image())")
        )
        checker.check("notes with an unlabelled image")
    finally:
        checker.close()
    assert [f.what.split(" (")[0] for f in checker.findings] == ["axe image-alt"] * len(WIDTHS)


@pytest.mark.browser
def test_the_two_factor_pages_are_accessible_and_fit(live_server_url, browser, transactional_db):
    """The second step of logging in, setting up an authenticator app, and recovery codes."""
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    from tests.factories import PASSWORD

    world = make_world()
    findings: list[Finding] = []

    # A therapist with two-factor logs in: the second step.
    checker = Checker(browser, live_server_url, None, "therapist logging in")

    def log_in(page) -> None:
        page.goto(reverse("account_login"))
        page.locator("input[name=login]").fill(world.therapist.email)
        page.locator("input[name=password]").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**" + reverse("mfa_authenticate"))

    try:
        checker.both(log_in)
        checker.check(reverse("mfa_authenticate"))
    finally:
        checker.close()
    findings += checker.findings

    # A new therapist sets two-factor up, and is shown their recovery codes.
    bare = TherapistFactory(email="dr.new@example.com", display_name="Dr. New", mfa=False)
    checker = Checker(browser, live_server_url, bare, "therapist setting up 2FA")
    try:
        checker.visit(reverse("mfa_activate_totp"))
        RecoveryCodes.activate(world.therapist)
    finally:
        checker.close()
    findings += checker.findings
    checker = Checker(browser, live_server_url, world.therapist, "therapist with codes")
    try:
        checker.visit(reverse("mfa_view_recovery_codes"))
        checker.visit(reverse("mfa_index"))
    finally:
        checker.close()
    findings += checker.findings
    assert not findings, report(findings)


CUT_TABLES_JS = """() => [...document.querySelectorAll('.table-scroll')]
  .filter(e => e.scrollWidth > e.clientWidth + 1)
  .map(e => (e.querySelector('caption') || e).textContent.trim())"""


@pytest.mark.browser
def test_progress_with_data_and_a_finished_console_are_accessible(
    live_server_url, browser, transactional_db
):
    """The progress page's tables with rows in them (wide ones scroll inside their own box,
    which the keyboard can reach; at 1280 px none is cut), for the partner and the therapist,
    and the console of a finished dialogue, whose transcript scrolls on its own."""
    from practice.measures import CSI4
    from tests.practice.test_progress import appreciation_dialogue, closed_dialogue

    CSI4_KEYS = CSI4.keys

    world = make_world()
    sam = User.objects.get(email="sam@example.com")
    dialogue_services.session_end(session_public_id=world.live.public_id, user=world.alex)
    finished = closed_dialogue(world.alex, sam, (3, 5))
    closed_dialogue(world.alex, sam, (4, 4))
    appreciation_dialogue(world.alex, sam)
    # Questionnaire scores for both (Sam shares his): their chart, table and cut-off.
    from practice import services as practice_services

    full = {f"q{i}": 3 for i in range(1, 17)}
    for person, instrument in ((world.alex, "csi16"), (sam, "csi4"), (sam, "csi16")):
        answers = {k: v for k, v in full.items() if instrument == "csi16" or k in CSI4_KEYS}
        practice_services.measure_answer(
            user=person, instrument=instrument, answers=answers, token=form_token()
        )
    practice_services.measure_share(user=sam, what="scores", shared=True)
    findings: list[Finding] = []
    for role, path in (
        ("partner", reverse("practice:progress")),
        ("therapist", reverse("therapists:couple_progress", args=[world.couple_public_id])),
        ("therapist", reverse("therapists:console", args=[finished.public_id])),
    ):
        checker = Checker(browser, live_server_url, person_for(role, world), role)
        try:
            checker.visit(path)
            checker.watched.set_viewport_size({"width": 1280, "height": 800})
            cut = checker.watched.evaluate(CUT_TABLES_JS)
            if cut:
                findings.append(Finding(role, 1280, path, f"tables cut off: {cut}"))
        finally:
            checker.close()
        findings += checker.findings
    assert not findings, report(findings)
