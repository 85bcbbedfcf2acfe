"""Staff can't take over anyone's account from the admin, and every look at a person is audited.

Issue 12, defect 3: a staff user could set a partner's password (or change their email, kind,
staff and superuser flags), log in as them and read their dialogues. Now nobody sets or resets
a password or changes an email address in the admin (the owner does, through the normal reset
and email pages); only superusers change a person's kind or hand out staff rights; and every
admin page that lists or shows people is recorded in the audit trail.

The walk below visits every page of every registered admin (lists, add pages, change pages of
every row, the password page of every person) as staff holding every permission and as a
superuser, reads every form field on them, then posts changed emails and passwords to each.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Permission
from django.db import models
from django.urls import reverse

from couples import services as couple_services
from couples.models import User
from dialogues import services as dialogue_services
from safety import services as safety_services
from security.models import AuditEvent
from tests.helpers import form_token
from tests.mfa import give_mfa
from therapists import services as therapist_services

NEW_PASSWORD = "An0ther-passphrase-entirely"
ATTACKER_EMAIL = "takeover@evil.example"
CALM = {"afraid": "no", "hurt": "no", "crisis": "no"}  # safety answers: no concern

# --- reading forms out of pages --------------------------------------------------------------


class FormFields(HTMLParser):
    """Every form control in a page: (tag, type, name, value) for what a browser would post."""

    def __init__(self) -> None:
        super().__init__()
        self.controls: list[tuple[str, str, str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag, attrs) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "input" and a.get("name"):
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                self.controls.append((tag, kind, a["name"], "\0unchecked"))
            else:
                self.controls.append((tag, kind, a["name"], a.get("value", "")))
        elif tag == "select" and a.get("name"):
            self._select = a["name"]
            self.controls.append((tag, "select", a["name"], ""))
        elif tag == "option" and self._select is not None and "selected" in a:
            self.controls.append(("option", "select", self._select, a.get("value", "")))
        elif tag == "textarea" and a.get("name"):
            self._textarea, self._text = a["name"], ""

    def handle_endtag(self, tag) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.controls.append(("textarea", "textarea", self._textarea, self._text))
            self._textarea = None

    def handle_data(self, data) -> None:
        if self._textarea is not None:
            self._text += data


def controls_of(body: str) -> list[tuple[str, str, str, str]]:
    parser = FormFields()
    parser.feed(body)
    return parser.controls


def post_data_of(body: str) -> dict[str, str]:
    """What submitting the page's forms unchanged would send."""
    data: dict[str, str] = {}
    for _tag, kind, name, value in controls_of(body):
        if value == "\0unchecked" or (kind in ("submit", "button", "select") and not value):
            continue
        data[name] = value
    return data


def is_account_field(name: str, kind: str) -> bool:
    lowered = name.lower()
    return kind in ("password", "email") or "password" in lowered or "email" in lowered


# --- the people and rows every admin page shows -------------------------------------------


def make_superuser(email: str) -> User:
    user = User.objects.create_superuser(
        email=email, password="correct-horse-battery", display_name="Root"
    )
    give_mfa(user)
    return user


@pytest.fixture
def superuser(db) -> User:
    return make_superuser("root@example.com")


@pytest.fixture
def full_staff(staff) -> User:
    """Staff (not superuser) holding every permission there is: the most a staff account gets."""
    staff.user_permissions.add(*Permission.objects.all())
    return User.objects.get(pk=staff.pk)  # fresh: permissions are cached on the instance


@pytest.fixture
def rows(pair, alex, sam, single, outsider, therapist, superuser):
    """At least one row in every admin, emails in every place an email can be."""
    couple_services.couple_create(user=single, partner_email="friend@example.com")
    therapist_services.therapist_invite(user=alex, email="dr.new@example.com", token=form_token())
    link = therapist_services.link_code_issue(therapist=therapist, token=form_token())
    link = therapist_services.link_code_redeem(user=alex, code=link.code)
    therapist_services.consent_give(user=sam, link_public_id=link.public_id)
    for person in (alex, sam):
        safety_services.screening_save(user=person, answers=CALM)
        safety_services.screening_set_ready(user=person, ready=True)
    dialogue_services.dialogue_start(user=alex, kind="intentional", topic="the dishes")
    therapist_services.homework_assign(
        therapist=therapist, couple=pair, title="Appreciate", token=form_token()
    )
    # A second address of Alice's she hasn't confirmed: "mark verified" would be a way in.
    EmailAddress.objects.create(
        user=alex, email="alice.old@example.com", verified=False, primary=False
    )
    return alex


def account_snapshot() -> dict:
    """Every email and password anyone has, and every email address row."""
    snapshot: dict = {
        "addresses": sorted(
            EmailAddress.objects.values_list("user_id", "email", "verified", "primary")
        ),
        "users": sorted(User.objects.values_list("pk", "email", "password")),
    }
    for model in apps.get_models():
        if model is AuditEvent:
            continue  # append-only, and growing with every page read here
        for field in model._meta.concrete_fields:
            if isinstance(field, models.CharField) and (
                "email" in field.name or "password" in field.name
            ):
                snapshot[f"{model._meta.label_lower}.{field.name}"] = sorted(
                    model._default_manager.values_list("pk", field.name)
                )
    return snapshot


def admin_pages():
    """(url, kind) for every list, add page, change page and password page in the admin."""
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        yield reverse("admin:{}_{}_changelist".format(*info)), "list"
        yield reverse("admin:{}_{}_add".format(*info)), "add"
        for obj in model._default_manager.all()[:30]:
            yield reverse("admin:{}_{}_change".format(*info), args=[obj.pk]), "change"
    for user in User.objects.all():
        yield reverse("admin:auth_user_password_change", args=[user.pk]), "password"


# --- the walk ------------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["full_staff", "superuser"])
def test_no_admin_page_has_a_password_or_email_field(request, rows, client_as, who):
    client = client_as(request.getfixturevalue(who))
    pages = list(admin_pages())
    assert len(pages) > 30
    shown = 0
    for url, _kind in pages:
        response = client.get(url)
        assert response.status_code in (200, 403), (url, response.status_code)
        if response.status_code != 200:
            continue
        shown += 1
        editable = [
            (name, kind)
            for _tag, kind, name, _value in controls_of(response.content.decode())
            if is_account_field(name, kind)
        ]
        assert editable == [], (url, editable)
    assert shown > 20


@pytest.mark.parametrize("who", ["full_staff", "superuser"])
def test_posting_new_emails_and_passwords_to_every_admin_page_changes_nothing(
    request, rows, client_as, who
):
    actor = request.getfixturevalue(who)
    client = client_as(actor)
    before = account_snapshot()
    attack = {
        "email": ATTACKER_EMAIL,
        "invited_email": ATTACKER_EMAIL,
        "password": NEW_PASSWORD,
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        "usable_password": "true",
        "set_usable_password": "true",
        "verified": "on",
        "primary": "on",
        "user": str(rows.pk),
        "display_name": "Someone",
        "kind": "partner",
        "_save": "Save",
    }
    for url, kind in admin_pages():
        page = client.get(url)
        data = post_data_of(page.content.decode()) if page.status_code == 200 else {}
        data.pop("q", None)
        if kind == "list":
            continue  # lists: actions below
        client.post(url, {**data, **attack})
    # Every action of every list, on every row (deactivating and the rest change no address).
    for model, model_admin in admin.site._registry.items():
        info = (model._meta.app_label, model._meta.model_name)
        url = reverse("admin:{}_{}_changelist".format(*info))
        fake = client.get(url).wsgi_request
        for action in model_admin.get_actions(fake):
            ids = list(model._default_manager.values_list("pk", flat=True))
            client.post(url, {"action": action, "_selected_action": ids, "index": "0"})
    assert account_snapshot() == before
    for person in User.objects.exclude(pk=actor.pk):
        assert not person.check_password(NEW_PASSWORD), person.email
    assert not User.objects.filter(email=ATTACKER_EMAIL).exists()
    assert not EmailAddress.objects.filter(email=ATTACKER_EMAIL).exists()


def test_the_password_page_is_refused_to_everyone(rows, client_as, full_staff, superuser):
    url = reverse("admin:auth_user_password_change", args=[rows.pk])
    for person in (full_staff, superuser):
        client = client_as(person)
        assert client.get(url).status_code == 403
        response = client.post(
            url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"}
        )
        assert response.status_code == 403
    rows.refresh_from_db()
    assert rows.check_password("correct-horse-battery")


def test_the_admins_own_password_page_sends_staff_to_the_account_pages(client_as, full_staff):
    response = client_as(full_staff).get(reverse("admin:password_change"))
    assert response.status_code == 302
    assert response["Location"] == reverse("account_change_password")


def test_people_are_not_added_in_the_admin(client_as, full_staff, superuser):
    """An account made here would come with a password its maker knows: people sign up."""
    for person in (full_staff, superuser):
        assert client_as(person).get(reverse("admin:couples_user_add")).status_code == 403
        assert client_as(person).get(reverse("admin:account_emailaddress_add")).status_code == 403


def test_staff_change_nothing_but_a_name(alex, client_as, full_staff):
    url = reverse("admin:couples_user_change", args=[alex.pk])
    client = client_as(full_staff)
    names = {name for _t, _k, name, _v in controls_of(client.get(url).content.decode())}
    assert "display_name" in names
    assert not names & {"email", "password", "kind", "is_staff", "is_superuser", "is_active"}
    response = client.post(
        url,
        {
            "display_name": "Alicia",
            "email": ATTACKER_EMAIL,
            "kind": "therapist",
            "is_staff": "on",
            "is_superuser": "on",
            "_save": "Save",
        },
    )
    assert response.status_code == 302
    alex.refresh_from_db()
    assert alex.display_name == "Alicia" and alex.email == "alex@example.com"
    assert alex.kind == User.Kind.PARTNER
    assert not alex.is_staff and not alex.is_superuser


def test_staff_cant_make_themselves_superuser(client_as, full_staff):
    url = reverse("admin:couples_user_change", args=[full_staff.pk])
    client_as(full_staff).post(
        url, {"display_name": "Stan", "is_staff": "on", "is_superuser": "on", "_save": "Save"}
    )
    full_staff.refresh_from_db()
    assert not full_staff.is_superuser


def test_only_a_superuser_grants_staff_or_changes_a_kind(alex, client_as, superuser):
    url = reverse("admin:couples_user_change", args=[alex.pk])
    client = client_as(superuser)
    names = {name for _t, _k, name, _v in controls_of(client.get(url).content.decode())}
    assert {"display_name", "kind", "is_staff", "is_superuser"} <= names
    assert not names & {"email", "password"}
    response = client.post(
        url,
        {"display_name": "Alice", "kind": "partner", "is_staff": "on", "_save": "Save"},
    )
    assert response.status_code == 302
    alex.refresh_from_db()
    assert alex.is_staff and alex.email == "alex@example.com"


def test_email_addresses_can_be_read_not_changed(rows, client_as, full_staff):
    address = EmailAddress.objects.get(email="alice.old@example.com")
    client = client_as(full_staff)
    assert client.get(reverse("admin:account_emailaddress_changelist")).status_code == 200
    page = client.get(reverse("admin:account_emailaddress_change", args=[address.pk]))
    assert page.status_code == 200 and b'name="_save"' not in page.content
    client.post(
        reverse("admin:account_emailaddress_changelist"),
        {"action": "make_verified", "_selected_action": [address.pk]},
    )
    address.refresh_from_db()
    assert not address.verified
    assert client.get(
        reverse("admin:account_emailaddress_delete", args=[address.pk])
    ).status_code in (403, 404)


def test_deactivating_reactivating_and_verifying_still_work(
    alex, unverified_therapist, client_as, full_staff
):
    client = client_as(full_staff)
    url = reverse("admin:couples_user_changelist")
    client.post(url, {"action": "deactivate", "_selected_action": [alex.pk]})
    alex.refresh_from_db()
    assert not alex.is_active
    client.post(url, {"action": "reactivate", "_selected_action": [alex.pk]})
    alex.refresh_from_db()
    assert alex.is_active
    client.post(
        url,
        {
            "action": "verify_therapists",
            "_selected_action": [unverified_therapist.pk],
            "apply": "1",
            "reason": "Licence 12345 checked",
        },
    )
    unverified_therapist.refresh_from_db()
    assert unverified_therapist.is_verified_therapist


# --- every look at a person is audited -------------------------------------------------------


def test_opening_a_persons_page_is_audited(alex, client_as, full_staff):
    client_as(full_staff).get(reverse("admin:couples_user_change", args=[alex.pk]))
    event = AuditEvent.objects.get(action="admin.viewed")
    assert event.actor == full_staff
    assert (event.target_type, event.target_id) == ("couples.user", alex.public_id)
    assert event.ip_address == "127.0.0.1"


def test_a_list_of_people_is_audited_with_who_was_on_it(
    alex, sam, therapist, client_as, full_staff
):
    client_as(full_staff).get(reverse("admin:couples_user_changelist") + "?q=example.com")
    event = AuditEvent.objects.get(action="admin.listed")
    assert event.actor == full_staff and event.target_type == "couples.user"
    shown = set(event.details["shown"])
    assert {alex.public_id, sam.public_id, therapist.public_id} <= shown
    assert event.details["count"] == len(shown)
    assert "example.com" not in str(event.details)  # what was searched for is not kept


def test_every_admin_page_about_people_is_audited(rows, client_as, full_staff):
    """Every list and every row's page, in every admin: one audit event each, never content."""
    client = client_as(full_staff)
    for url, kind in admin_pages():
        if kind not in ("list", "change"):
            continue
        before = AuditEvent.objects.filter(actor=full_staff).count()
        response = client.get(url)
        if response.status_code != 200:
            continue
        events = AuditEvent.objects.filter(actor=full_staff).order_by("-pk")
        assert events.count() == before + 1, url
        assert events[0].action == ("admin.listed" if kind == "list" else "admin.viewed"), url
