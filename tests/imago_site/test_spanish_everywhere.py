"""In Spanish, nothing is left in English: every page (the same list as the accessibility
test's, so a new route is covered), every fragment pushed over the sockets and every email,
for each kind of person whose language is Spanish. What people wrote and their names stay as
written, so they are taken out before looking: every name and every text the database holds.

English is recognised by its small words ("the", "your", "with" …), which Spanish never uses;
a page with one of them in its visible text, its labels for screen readers, its placeholders
or the texts its script shows is reported with the sentence it is in. Django's admin is left
out: staff tooling, translated by Django itself, with our models' own names.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.core import mail
from django.db import models
from django.test import Client

from couples.models import User
from tests.browser.test_accessibility import World, make_world, pages
from tests.helpers import form_token

pytestmark = pytest.mark.django_db

# Words only English uses (Spanish has none of them), lower case ("has" and "me" are Spanish
# too, so they are not here).
ENGLISH = set(
    """the you your yours you're you've you'll and with this that these those is are was were
    been for of to what when where why how will would have had it its it's can can't could
    should please our we they their them who which there from or at on into here my about
    an not don't doesn't isn't didn't won't yet if all more only each any after before by
    just also than then so get got let let's may might she her his him out up down over
    again still back done open show hide send sent save saved cancel close closed start
    started end ended next step steps move turn partner partners therapist couple dialogue
    dialogues sign password language settings account welcome hello thanks thank yes
    nothing someone everyone anyone something ask asked wait waiting ready write wrote
    share shared listen heard feel feeling""".split()  # noqa: SIM905 (reads better as words)
)
WORD = re.compile(r"[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ']*")  # "allí" is one word, not "all"
URL = re.compile(r"https?://\S+|/[\w./?=&%-]*/|\{\w+\}")  # and the script's placeholders
VISIBLE_ATTRIBUTES = ("aria-label", "title", "placeholder", "alt", "aria-description")
SKIPPED_TAGS = {"script", "style", "template"}


class _Text(HTMLParser):
    """The page's visible text and the texts it gives screen readers and its script."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag, attrs) -> None:
        if tag in SKIPPED_TAGS:
            self._skipping += 1
        values = dict(attrs)
        for name, value in attrs:
            if not value:
                continue
            if name in VISIBLE_ATTRIBUTES or (name.startswith("data-") and " " in value):
                self.parts.append(value)
        if tag == "input" and values.get("type") in ("submit", "button"):
            self.parts.append(values.get("value") or "")
        if tag == "meta" and values.get("name") == "description":
            self.parts.append(values.get("content") or "")

    def handle_endtag(self, tag) -> None:
        if tag in SKIPPED_TAGS and self._skipping:
            self._skipping -= 1

    def handle_data(self, data) -> None:
        if not self._skipping:
            self.parts.append(data)


def written_by_people() -> list[str]:
    """Every name and text in the database that a person wrote or an admin entered (longest
    first, so a sentence goes before the words in it): values with a capital or a space,
    which leaves out the stored codes (kinds, moves, statuses)."""
    found: set[str] = set()
    for model in apps.get_models():
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, models.CharField | models.TextField)
        ]
        if not fields:
            continue
        for row in model._default_manager.all():
            for field in fields:
                value = getattr(row, field.attname, None)
                if (
                    isinstance(value, str)
                    and len(value) > 2
                    and (" " in value or value != value.lower())
                ):
                    found.add(value)
    return sorted(found, key=len, reverse=True)


def english_in(html: str, written: list[str]) -> list[str]:
    parser = _Text()
    parser.feed(html)
    left = []
    for part in parser.parts:
        text = URL.sub(" ", " ".join(part.split()))  # addresses are not sentences
        for value in written:
            text = text.replace(value, " ")
        words = {w.lower() for w in WORD.findall(text)}
        if words & ENGLISH:
            left.append(f"{sorted(words & ENGLISH)}: {text[:160]}")
    return left


def in_spanish(*people: User) -> None:
    for person in people:
        person.language = "es"
        person.save(update_fields=["language"])


@pytest.fixture
def world() -> World:
    world = make_world()
    in_spanish(*User.objects.all())
    for person in (world.alex, world.therapist, world.staff):
        person.refresh_from_db()
    return world


def client_for(user: User | None) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    if user is not None:
        client.force_login(user)
    return client


@pytest.mark.parametrize("role", ["anonymous", "partner", "therapist", "staff"])
def test_every_page_is_all_spanish(world: World, role: str):
    person = {"partner": world.alex, "therapist": world.therapist, "staff": world.staff}.get(role)
    client = client_for(person)
    written = written_by_people()
    found: list[str] = []
    seen: set[str] = set()
    for name, paths in pages(world).items():
        if name.startswith("admin:"):
            continue
        for path in paths:
            response = client.get(path, follow=True)
            if "text/html" not in response.get("Content-Type", ""):
                continue
            if '<html lang="es">' not in response.content.decode():
                found.append(f'{role} {path}: not <html lang="es">')
            found += [
                f"{role} {path}: {line}"
                for line in english_in(response.content.decode(), written)
                if line not in seen and not seen.add(line)  # each text once, where first seen
            ]
    assert found == [], "English left:\n" + "\n".join(found)


def test_every_pushed_fragment_is_all_spanish(world: World):
    from dialogues import push
    from dialogues.models import Turn
    from dialogues.selectors import FACILITATOR

    written = written_by_people()
    live = world.live
    sam = live.partner_b if live.partner_a_id == world.alex.pk else live.partner_a
    found = []
    fragments = {
        "snapshot (partner)": push.render_snapshot(public_id=live.public_id, user=world.alex).html,
        "snapshot (other partner)": push.render_snapshot(public_id=live.public_id, user=sam).html,
        "snapshot (console)": push.render_snapshot(
            public_id=live.public_id, user=world.therapist, role=FACILITATOR
        ).html,
        "update": push.render_update(
            public_id=live.public_id, user=world.alex, after=0, panel_key=""
        ).html,
        "presence": push.render_presence(partner_name="Sam", online=True, language="es")
        + push.render_presence(partner_name="Sam", online=False, language="es"),
        "facilitator presence": push.render_facilitator_presence(
            names=["Dr. Rivera"], language="es"
        ),
        "partners presence": push.render_partners_presence(
            partners=[("Alex", True), ("Sam", False)], language="es"
        ),
        "typing": push.render_typing(partner_name="Sam", language="es"),
        "home": push.render_home(user=world.alex) or "",
        "partner joined": push.render_partner_joined(user=world.alex) or "",
    }
    turn = Turn.objects.filter(session=live).order_by("-seq").first()
    live.refresh_from_db()
    for slot, parts in push.render_change(session=live, turn=turn).items():
        if slot == FACILITATOR:
            continue  # rendered in the site's default language: a console in Spanish re-renders
        fragments[f"change ({slot})"] = parts["html"] + parts["panel"]
    for what, html in fragments.items():
        found += [f"{what}: {line}" for line in english_in(html, written)]
    assert found == [], "English left:\n" + "\n".join(found)


def test_every_email_is_all_spanish(world: World, django_capture_on_commit_callbacks):
    """The emails the app sends, each to a person whose language is Spanish: an invitation, a
    therapist invitation, the retention warning, "it's your move", the appointment's
    reminders, and allauth's (a password reset)."""
    from datetime import timedelta

    from django.utils import timezone

    from couples import retention
    from couples import services as couple_services
    from couples.models import Couple
    from dialogues import tasks
    from tests.factories import UserFactory, make_couple
    from therapists import services as therapist_services

    written = written_by_people()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):  # emails leave after commit
        client_for(None).post("/accounts/password/reset/", {"email": world.alex.email})
        robin, kim = UserFactory(display_name="Robin"), UserFactory(display_name="Kim")
        in_spanish(robin, kim)
        single = UserFactory(display_name="Noa")
        in_spanish(single)
        couple_services.couple_create(user=single, partner_email="friend@example.com")
        make_couple(robin, kim)
        therapist_services.therapist_invite(
            user=robin, email="new-therapist@example.com", token=form_token()
        )
        ended, lu, mo = make_couple(UserFactory(display_name="Lu"), UserFactory(display_name="Mo"))
        in_spanish(lu, mo)
        couple_services.couple_leave(user=lu)
        retention.couple_warn(
            Couple.objects.get(pk=ended.pk), now=timezone.now() + timedelta(days=400)
        )
        tasks.your_move_deliver(
            session_id=world.live.pk,
            person_id=world.alex.pk,
            step_seq=world.live.step_seq,
            now=True,
        )
        tasks.reminders_deliver_due(grace=timedelta(days=30))
    subjects = [m.subject for m in mail.outbox]
    assert len(mail.outbox) >= 6, subjects
    found = []
    for message in mail.outbox:
        bodies = [message.subject, message.body]
        bodies += [content for content, _ in getattr(message, "alternatives", [])]
        for body in bodies:
            found += [f"{message.subject}: {line}" for line in english_in(str(body), written)]
    assert found == [], "English left:\n" + "\n".join(found)
