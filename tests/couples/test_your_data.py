"""'Your data': the JSON download and account deletion, as each role, following
docs/security.md ("Your data")."""

import json

import pytest
from allauth.mfa.models import Authenticator
from django.contrib.sessions.models import Session
from django.urls import reverse

from couples.models import Couple, Invitation, User
from couples.services import couple_create
from dialogues import services
from dialogues.models import DialogueSession, Turn
from security.models import AuditEvent
from tests.factories import PASSWORD
from tests.helpers import form_token, names

DATA = "/account/data/"
EXPORT = "/account/data/export/"
DELETE = "/account/delete/"


@pytest.fixture
def talked(dialogue, alex, sam):
    """Alex shared, Sam mirrored: a dialogue with words from both."""
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", token=form_token()
    )
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=alex,
        move="send",
        payload={"text": "Alex-words: I feel rushed."},
        token=form_token(),
    )
    services.move_submit(
        session_public_id=dialogue.public_id,
        user=sam,
        move="mirror",
        payload={"text": "Sam-words: you feel rushed."},
        token=form_token(),
    )
    return dialogue


@pytest.fixture
def other_couples_dialogue(outsider):
    return services.dialogue_start(user=outsider, kind="intentional", topic="Olly-topic")


def export(client) -> dict:
    response = client.get(EXPORT)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Content-Disposition"].startswith('attachment; filename="imago-data-')
    return json.loads(response.content)


# --- pages, as each role ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["alex", "sam", "outsider", "therapist", "unverified_therapist", "staff", "single"]
)
def test_everyone_logged_in_sees_their_data_page_and_can_download(client_as, user_in_role, who):
    person = user_in_role(who)
    client = client_as(person)
    page = client.get(DATA)
    assert page.status_code == 200
    body = page.content.decode()
    assert EXPORT in body and DELETE in body
    data = export(client)
    assert data["account"]["email"] == person.email and data["account"]["id"] == person.public_id
    assert client.get(DELETE).status_code == 200


@pytest.mark.parametrize("url", [DATA, EXPORT, DELETE])
def test_anonymous_visitors_are_sent_to_log_in(client, url):
    response = client.get(url)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client.post(DELETE, {"password": "x"}).status_code == 302


def test_the_account_pages_link_to_your_data(client_as):
    body = client_as("alex").get(reverse("account_change_password")).content.decode()
    assert DATA in body and "Your data" in body


# --- export ----------------------------------------------------------------------------------


def test_the_export_has_everything_of_the_person(client_as, talked, alex, pair, single):
    couple_create(user=single, partner_email="friend@example.com")
    data = export(client_as("alex"))
    assert data["account"] == {
        "id": alex.public_id,
        "email": "alex@example.com",
        "display_name": "Alex",
        "kind": "partner",
        "therapist_verified_at": None,
        "date_joined": alex.date_joined.isoformat(),
        "last_login": data["account"]["last_login"],
    }
    [couple] = data["couples"]
    assert couple["id"] == pair.public_id and couple["is_active"]
    assert [(m["name"], m["is_you"]) for m in couple["members"]] == [("Alex", True), ("Sam", False)]
    [dialogue] = data["dialogues"]
    assert dialogue["id"] == talked.public_id and dialogue["topic"] == "Sunday mornings"
    texts = [t["text"] for t in dialogue["turns"]]
    assert "Alex-words: I feel rushed." in texts and "Sam-words: you feel rushed." in texts
    assert [t["seq"] for t in dialogue["turns"]] == list(range(1, len(texts) + 1))
    assert {t["by"] for t in dialogue["turns"]} == {"you", "Sam"}
    assert any(e["action"] == "auth.login" for e in data["security_events"])


def test_each_partner_gets_the_whole_shared_dialogue(client_as, talked):
    alex_turns = export(client_as("alex"))["dialogues"][0]["turns"]
    sam_turns = export(client_as("sam"))["dialogues"][0]["turns"]
    assert [t["text"] for t in alex_turns] == [t["text"] for t in sam_turns]


def test_the_export_has_nothing_of_another_couple(
    client_as, talked, other_couples_dialogue, outsider
):
    raw = client_as("alex").get(EXPORT).content.decode()
    assert "Olly-topic" not in raw and outsider.public_id not in raw
    assert other_couples_dialogue.public_id not in raw and "olly@" not in raw
    assert "pat@" not in raw and not names(raw, "Pat")
    assert "sam@example.com" not in raw  # the partner by name only
    raw = client_as("outsider").get(EXPORT).content.decode()
    assert "Alex-words" not in raw and "Sunday mornings" not in raw and talked.public_id not in raw


def test_the_export_lists_invitations_sent(client_as, single):
    issued = couple_create(user=single, partner_email="friend@example.com")
    [invitation] = export(client_as("single"))["invitations_sent"]
    assert invitation["id"] == issued.invitation.public_id
    assert invitation["email"] == "friend@example.com" and invitation["status"] == "pending"
    assert "token" not in json.dumps(invitation)


def test_an_export_is_audited(client_as, alex):
    client_as("alex").get(EXPORT)
    event = AuditEvent.objects.get(action="account.exported")
    assert event.actor == alex and event.target_id == alex.public_id and event.details == {}


# --- deletion --------------------------------------------------------------------------------


def test_a_wrong_password_deletes_nothing(client_as, talked, alex):
    client = client_as("alex")
    for password in ["", "wrong password", "x" * 5000]:
        response = client.post(DELETE, {"password": password})
        assert response.status_code == 422
        assert "Nothing was deleted" in response.content.decode() or password == ""
    alex.refresh_from_db()
    assert alex.is_active and alex.email == "alex@example.com"
    assert any(t.text.startswith("Alex-words") for t in Turn.objects.all())
    assert client.get("/").status_code == 200 and b"Alex" in client.get("/").content


def test_deletion_follows_the_written_policy(client_as, talked, alex, sam, pair):
    other_device = client_as(alex)
    pending = Invitation.objects.create(
        couple=pair,
        invited_by=alex,
        token_hash="h" * 64,
        expires_at=talked.created_at.replace(year=2999),
    )
    client = client_as("alex")
    response = client.post(DELETE, {"password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"
    assert "deleted" in client.get("/").content.decode()

    # Their own words are erased; the turns stay, marked removed; the partner's words stay.
    mine = Turn.objects.filter(session=talked, actor=alex)
    assert mine.exists()
    assert all(t.text == "" for t in mine)
    assert all(t.data in ({"removed": True}, {}) for t in mine)
    mine = Turn.objects.filter(session=talked, actor=alex)
    assert {"removed": True} in [t.data for t in mine]
    assert "Sam-words: you feel rushed." in [t.text for t in Turn.objects.all()]
    talked.refresh_from_db()
    assert talked.topic == "(removed by its author)"  # Alex named it
    # The live dialogue ended and the couple ended; the invitation no longer works.
    assert talked.status == DialogueSession.Status.ENDED
    assert Couple.objects.get(pk=pair.pk).is_active is False
    pending.refresh_from_db()
    assert pending.status == Invitation.Status.REVOKED
    # The account is anonymised, logged out everywhere, and can't log in.
    alex.refresh_from_db()
    assert not alex.is_active and not alex.has_usable_password()
    assert alex.email.endswith("@deleted.invalid") and alex.display_name == "Deleted account"
    assert "alex" not in alex.email
    assert not [
        s for s in Session.objects.all() if s.get_decoded().get("_auth_user_id") == str(alex.pk)
    ]
    assert b"Log in" in other_device.get("/").content
    # The audit trail keeps the event, without the person or any content.
    event = AuditEvent.objects.get(action="account.deleted")
    assert event.actor is None and event.actor_email == "" and event.details == {}
    assert event.target_id == alex.public_id
    assert not AuditEvent.objects.filter(actor_email="alex@example.com").exists()
    assert AuditEvent.objects.filter(actor_email=f"deleted:{alex.public_id}").exists()


def test_the_partner_still_reads_a_coherent_transcript(client_as, talked, alex):
    client_as("alex").post(DELETE, {"password": PASSWORD})
    body = (
        client_as("sam")
        .get(reverse("dialogues:transcript", args=[talked.public_id]))
        .content.decode()
    )
    assert "Alex-words" not in body and "Sunday mornings" not in body
    assert "(removed by its author)" in body
    assert "Sam-words: you feel rushed." in body
    assert "Deleted account" in body


def test_a_partner_who_did_not_start_keeps_the_topic(client_as, talked, sam):
    client_as("sam").post(DELETE, {"password": PASSWORD})
    talked.refresh_from_db()
    assert talked.topic == "Sunday mornings"
    assert not any(t.text.startswith("Sam-words") for t in Turn.objects.all())
    assert any(t.text.startswith("Alex-words") for t in Turn.objects.all())


@pytest.mark.parametrize("who", ["therapist", "staff", "single"])
def test_people_without_a_couple_can_delete_their_account(client_as, user_in_role, who):
    person = user_in_role(who)
    client = client_as(person)
    assert client.post(DELETE, {"password": PASSWORD}).status_code == 302
    person.refresh_from_db()
    assert not person.is_active and not person.is_staff
    assert not Authenticator.objects.filter(user=person).exists()


def test_the_email_can_sign_up_again_after_deletion(client_as, single):
    client_as(single).post(DELETE, {"password": PASSWORD})
    assert not User.objects.filter(email="sasha@example.com").exists()


def test_other_apps_end_what_they_hold_when_an_account_is_deleted(client_as, alex):
    from couples.signals import account_deleting

    heard = []

    def receiver(sender, user, **kwargs):
        heard.append((user.pk, user.email))  # still the real account, before anonymising

    account_deleting.connect(receiver)
    try:
        client_as("alex").post(DELETE, {"password": PASSWORD})
    finally:
        account_deleting.disconnect(receiver)
    assert heard == [(alex.pk, "alex@example.com")]


# --- with a therapist ------------------------------------------------------------------------


@pytest.fixture
def coached(talked, link, therapist):
    """Dr. Rivera, linked with both consents, coached Alex privately, Sam privately, and both;
    wrote private notes and set homework."""
    from therapists import services as therapist_services

    for text, to in [("For-Alex-only", "a"), ("For-Sam-only", "b"), ("For-both", "")]:
        therapist_services.coaching_send(
            session_public_id=talked.public_id,
            therapist=therapist,
            text=text,
            to=to,
            token=form_token(),
        )
    couple = talked.couple
    therapist_services.note_add(
        therapist=therapist, couple=couple, text="Note-about-couple", token=form_token()
    )
    therapist_services.note_add(
        therapist=therapist,
        couple=couple,
        session=talked,
        text="Note-about-session",
        token=form_token(),
    )
    therapist_services.homework_assign(
        therapist=therapist,
        couple=couple,
        title="Homework-title",
        instructions="Daily",
        token=form_token(),
    )
    return talked


def test_a_partners_export_has_coaching_meant_for_them_and_never_notes(client_as, coached):
    for who, mine, theirs in [
        ("alex", "For-Alex-only", "For-Sam-only"),
        ("sam", "For-Sam-only", "For-Alex-only"),
    ]:
        raw = client_as(who).get(EXPORT).content.decode()
        data = json.loads(raw)
        turns = data["dialogues"][0]["turns"]
        coaching = {t["text"]: t for t in turns if t["kind"] == "coaching"}
        assert set(coaching) == {mine, "For-both"}
        assert coaching[mine]["to"] == "you" and coaching["For-both"]["to"] == "both"
        assert coaching["For-both"]["by"] == "Dr. Rivera" and coaching[mine]["role"] == (
            "facilitator"
        )
        assert theirs not in raw
        assert "Note-about" not in raw
        [link] = data["therapist_links"]
        assert link["therapist"] == "Dr. Rivera" and link["status"] == "active"
        assert link["your_consent_given_at"] and link["access_from"]
        [homework] = data["homework"]
        assert homework["title"] == "Homework-title" and homework["done_at"] is None


def test_a_therapists_export_has_their_links_but_no_couples_words(client_as, coached):
    raw = client_as("therapist").get(EXPORT).content.decode()
    data = json.loads(raw)
    [link] = data["therapist_links"]
    assert link["couple"] == coached.couple.public_id and link["status"] == "active"
    assert data["dialogues"] == [] and data["homework"] == []
    for words in ("Alex-words", "Sam-words", "Sunday mornings", "Note-about", "For-Alex-only"):
        assert words not in raw


def test_the_export_lists_the_one_device_permissions_given(pair, alex, sam):
    from couples import services as couple_services
    from couples.selectors import account_export

    couple_services.device_sharing_allow(user=sam)
    couple_services.device_sharing_revoke(user=sam)
    given = account_export(user=sam)["device_sharing_allowed"]
    assert [(g["couple"], g["withdrawn_at"] is not None) for g in given] == [(pair.public_id, True)]
    assert account_export(user=alex)["device_sharing_allowed"] == []
