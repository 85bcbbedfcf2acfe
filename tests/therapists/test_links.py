"""Linking a therapist: both partners must consent, either can withdraw, audit records it."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from couples import services
from couples.models import hash_token
from security.models import AuditEvent
from tests.factories import TherapistFactory, link_with_consent
from tests.helpers import form_token
from therapists import services as therapist_services
from therapists.models import TherapistLink
from therapists.selectors import therapist_access_link, therapist_couples
from therapists.services import TherapistError

pytestmark = pytest.mark.django_db


def has_access(therapist, couple) -> bool:
    return therapist_access_link(therapist=therapist, couple_id=couple.pk) is not None


def test_a_code_entered_by_one_partner_is_not_enough(therapist, pair, alex, sam):
    link = therapist_services.link_code_issue(therapist=therapist, token=form_token())
    assert link.couple is None and link.code
    therapist_services.link_code_redeem(user=alex, code=link.code.lower().replace("-", " "))
    link.refresh_from_db()
    assert link.couple == pair and link.status == TherapistLink.Status.PENDING
    assert not has_access(therapist, pair)
    therapist_services.consent_give(user=sam, link_public_id=link.public_id)
    link.refresh_from_db()
    assert link.status == TherapistLink.Status.ACTIVE and link.activated_at
    assert has_access(therapist, pair)
    assert therapist_couples(therapist=therapist) == [link]


def test_the_database_holds_only_a_hash_of_an_open_code(therapist, pair, alex):
    from django.db import connection

    link = therapist_services.link_code_issue(therapist=therapist, token="form-1")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM couples_therapistlink WHERE id = %s", [link.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    raw = link.code.replace("-", "")
    assert link.code not in row and raw not in row
    assert hash_token(link.code) in row
    assert TherapistLink.objects.get(pk=link.pk).code is None  # read back: no code to show
    therapist_services.link_code_redeem(user=alex, code=link.code)  # found by its hash
    link.refresh_from_db()
    assert link.couple == pair and link.code_hash is None


def test_a_replayed_form_gives_the_same_link_a_new_code_shown_once_again(therapist, pair, alex):
    """The page that showed the first code is gone (a double-click shows the second answer):
    the same link, a new code; the first no longer works."""
    first = therapist_services.link_code_issue(therapist=therapist, token="form-1")
    again = therapist_services.link_code_issue(therapist=therapist, token="form-1")
    assert again.pk == first.pk and again.code and again.code != first.code
    assert TherapistLink.objects.filter(therapist=therapist).count() == 1
    with pytest.raises(TherapistError, match="isn't valid"):
        therapist_services.link_code_redeem(user=alex, code=first.code)
    therapist_services.link_code_redeem(user=alex, code=again.code)


def test_a_code_works_once(therapist, pair, alex, outsider):
    link = therapist_services.link_code_issue(therapist=therapist, token=form_token())
    therapist_services.link_code_redeem(user=alex, code=link.code)
    with pytest.raises(TherapistError, match="isn't valid"):
        therapist_services.link_code_redeem(user=outsider, code=link.code)


def test_an_expired_or_made_up_code_is_refused(therapist, pair, alex):
    link = therapist_services.link_code_issue(therapist=therapist, token=form_token())
    TherapistLink.objects.filter(pk=link.pk).update(expires_at=timezone.now() - timedelta(1))
    for code in (link.code, "ZZZZZ-ZZZZZ", "", "x" * 500):
        with pytest.raises(TherapistError):
            therapist_services.link_code_redeem(user=alex, code=code)
    assert not TherapistLink.objects.filter(couple=pair).exists()


def test_an_unverified_therapist_can_link_to_no_one(pair, alex, unverified_therapist):
    unverified = unverified_therapist
    with pytest.raises(TherapistError, match="verified"):
        therapist_services.link_code_issue(therapist=unverified, token=form_token())
    link = therapist_services.therapist_invite(
        user=alex, email=unverified.email, token=form_token()
    )
    with pytest.raises(TherapistError, match="verified"):
        therapist_services.therapist_invitation_accept(
            therapist=unverified, link_public_id=link.public_id
        )
    link.refresh_from_db()
    assert link.therapist is None


def test_the_email_flow_needs_the_therapist_and_both_partners(
    therapist, pair, alex, sam, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        link = therapist_services.therapist_invite(
            user=alex, email="DR@example.com", token=form_token()
        )
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["dr@example.com"]
    assert "/therapist/" in mail.outbox[0].body
    therapist_services.consent_give(user=sam, link_public_id=link.public_id)
    assert not has_access(therapist, pair)  # the therapist hasn't accepted yet
    therapist_services.therapist_invitation_accept(
        therapist=therapist, link_public_id=link.public_id
    )
    link.refresh_from_db()
    assert link.therapist == therapist and link.status == TherapistLink.Status.ACTIVE
    assert has_access(therapist, pair)


def test_another_therapist_cannot_accept_an_invitation_to_someone_else(therapist, pair, alex):
    link = therapist_services.therapist_invite(
        user=alex, email="dr@example.com", token=form_token()
    )
    other = TherapistFactory(email="other@example.com", display_name="Dr. Other")
    with pytest.raises(TherapistError):
        therapist_services.therapist_invitation_accept(
            therapist=other, link_public_id=link.public_id
        )


def test_either_partner_can_withdraw_and_access_ends_at_once(link, therapist, pair, alex, sam):
    assert has_access(therapist, pair)
    therapist_services.consent_withdraw(user=alex, link_public_id=link.public_id)
    link.refresh_from_db()
    assert link.status == TherapistLink.Status.ENDED and link.end_reason == "withdrawn"
    assert not has_access(therapist, pair)
    assert link.consents.filter(withdrawn_at__isnull=True).count() == 0
    # Consenting again doesn't revive an ended link.
    with pytest.raises(TherapistError):
        therapist_services.consent_give(user=sam, link_public_id=link.public_id)
    assert not has_access(therapist, pair)


def test_consent_given_and_withdrawn_are_audited(therapist, pair, alex, sam):
    link = link_with_consent(therapist, alex, sam)
    therapist_services.consent_withdraw(user=sam, link_public_id=link.public_id)
    events = list(AuditEvent.objects.filter(target_id=link.public_id).order_by("pk"))
    actions = [(e.action, e.actor) for e in events]
    assert ("consent.given", alex) in actions and ("consent.given", sam) in actions
    assert ("consent.withdrawn", sam) in actions


def test_a_partner_of_another_couple_cannot_touch_the_link(link, outsider, therapist, pair):
    for action in (therapist_services.consent_give, therapist_services.consent_withdraw):
        with pytest.raises(TherapistError, match="wasn't found"):
            action(user=outsider, link_public_id=link.public_id)
    with pytest.raises(TherapistError):
        therapist_services.consent_withdraw(user=therapist, link_public_id=link.public_id)
    assert has_access(therapist, pair)


def test_revoking_verification_or_ending_the_couple_ends_access(link, therapist, pair, alex):
    therapist.therapist_verified_at = None
    therapist.save()
    assert not has_access(therapist, pair)
    therapist.therapist_verified_at = timezone.now()
    therapist.save()
    assert has_access(therapist, pair)
    services.couple_leave(user=alex)
    link.refresh_from_db()
    assert link.status == TherapistLink.Status.ENDED and not has_access(therapist, pair)


def test_a_partner_waiting_for_their_partner_cannot_link(therapist, single):
    services.couple_create(user=single)
    link = therapist_services.link_code_issue(therapist=therapist, token=form_token())
    with pytest.raises(TherapistError, match="partner has joined"):
        therapist_services.link_code_redeem(user=single, code=link.code)


# --- the partners' home page ---------------------------------------------------------------


def test_home_shows_pending_links_with_consent_buttons(therapist, pair, alex, sam, client_as):
    link = link_with_consent(therapist, alex)
    page = client_as(sam).get("/").content.decode()
    assert "Dr. Rivera" in page and "waiting for your consent" in page
    assert reverse("therapists:consent_give", args=[link.public_id]) in page
    assert reverse("therapists:consent_decline", args=[link.public_id]) in page
    page = client_as(alex).get("/").content.decode()
    assert "Sam: waiting for their consent" in page
    assert reverse("therapists:consent_withdraw", args=[link.public_id]) in page


def test_home_shows_who_has_access_and_since_when(link, alex, sam, client_as):
    for person in (alex, sam):
        page = client_as(person).get("/").content.decode()
        assert "Dr. Rivera (therapist) has access" in page
        assert f"{timezone.localtime(link.activated_at):%Y}" in page
        assert reverse("therapists:consent_withdraw", args=[link.public_id]) in page


def test_consent_buttons_work_over_http(therapist, pair, alex, sam, client_as):
    link = link_with_consent(therapist, alex)
    response = client_as(sam).post(reverse("therapists:consent_give", args=[link.public_id]))
    assert response.status_code == 302
    link.refresh_from_db()
    assert link.status == TherapistLink.Status.ACTIVE
    client_as(sam).post(reverse("therapists:consent_withdraw", args=[link.public_id]))
    link.refresh_from_db()
    assert link.status == TherapistLink.Status.ENDED
    page = client_as(alex).get("/").content.decode()
    assert "No therapist has access" in page


def test_decline_over_http(therapist, pair, alex, sam, client_as):
    link = link_with_consent(therapist, alex)
    client_as(sam).post(reverse("therapists:consent_decline", args=[link.public_id]))
    link.refresh_from_db()
    assert link.status == TherapistLink.Status.ENDED and link.end_reason == "declined"
    assert AuditEvent.objects.filter(action="consent.declined", actor=sam).exists()


def test_entering_a_code_and_inviting_over_http(therapist, pair, alex, client_as):
    code = therapist_services.link_code_issue(therapist=therapist, token=form_token()).code
    response = client_as(alex).post(reverse("therapists:code_enter"), {"code": code}, follow=True)
    assert "once your partner consents" in response.content.decode()
    response = client_as(alex).post(reverse("therapists:code_enter"), {"code": "nope"}, follow=True)
    assert "isn&#x27;t valid" in response.content.decode()
    response = client_as(alex).post(
        reverse("therapists:therapist_invite"), {"email": "not-an-email"}, follow=True
    )
    assert "therapist&#x27;s email" in response.content.decode()
    assert TherapistLink.objects.filter(couple=pair).count() == 1


# --- every way access ends ------------------------------------------------------------------


ENDINGS = {
    "withdrawn": "withdrawn",
    "partner_leaves": "couple_ended",
    "partner_deletes_account": "couple_ended",
    "unverified": "unverified",
    "deactivated": "deactivated",
    "therapist_deletes_account": "deleted",
    "therapist_ends": "therapist",
    "staff_ends": "staff",
}


@pytest.mark.parametrize("how", ENDINGS)
def test_access_ends_for_good_however_it_ends(how, link, therapist, pair, end_access):
    assert has_access(therapist, pair)
    end_access(how)
    link.refresh_from_db()
    therapist.refresh_from_db()
    assert (link.status, link.end_reason) == ("ended", ENDINGS[how])
    assert link.ended_at is not None
    assert not has_access(therapist, pair)
    assert therapist_couples(therapist=therapist) == []
    # Verifying (or reactivating) the therapist again doesn't bring access back: a new link
    # needs both partners' consent again.
    therapist.is_active = True
    therapist.therapist_verified_at = timezone.now()
    therapist.save()
    assert not has_access(therapist, pair)


def test_a_deleted_therapists_notes_go_and_homework_text_is_erased(link, therapist, pair):
    from therapists.models import Homework, TherapistNote

    therapist_services.note_add(
        therapist=therapist, couple=pair, text="Private thoughts", token=form_token()
    )
    therapist_services.homework_assign(
        therapist=therapist,
        couple=pair,
        title="Appreciate",
        instructions="One a day",
        token=form_token(),
    )
    services.account_delete(user=therapist)
    assert not TherapistNote.objects.exists()
    homework = Homework.objects.get()
    assert (homework.title, homework.instructions) == ("(removed by its author)", "")
    assert homework.couple == pair  # the couple keeps the row, and whether it was done


def test_a_deleted_partners_couple_keeps_nothing_open(therapist, pair, alex, sam):
    link = link_with_consent(therapist, alex)  # waiting for Sam's consent
    invited = therapist_services.therapist_invite(
        user=alex, email="someone@example.com", token=form_token()
    )
    services.account_delete(user=alex)
    for pending in (link, invited):
        pending.refresh_from_db()
        assert pending.status == "ended"
    assert not has_access(therapist, pair)


# --- the link views, as each role -----------------------------------------------------------


@pytest.mark.parametrize("who", ["outsider", "therapist", "staff", "unverified_therapist"])
def test_the_consent_views_are_404_for_anyone_outside_the_couple(who, link, pair, client_as):
    for name in ("consent_give", "consent_withdraw", "consent_decline"):
        response = client_as(who).post(reverse(f"therapists:{name}", args=[link.public_id]))
        assert response.status_code == 404, (who, name)
    link.refresh_from_db()
    assert link.status == "active"


def test_the_consent_views_send_anonymous_visitors_to_log_in(link, client_as):
    for name in ("consent_give", "consent_withdraw", "consent_decline"):
        response = client_as(None).post(reverse(f"therapists:{name}", args=[link.public_id]))
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert client_as(None).post(reverse("therapists:code_enter"), {"code": "x"}).status_code == 302


def test_another_therapist_gets_404_for_someone_elses_link(link, pair, alex, client_as):
    other = TherapistFactory(email="other@example.com", display_name="Dr. Other")
    invited = therapist_services.therapist_invite(
        user=alex, email="invited@example.com", token=form_token()
    )
    for name, target in (("therapists:link_end", link), ("therapists:accept", invited)):
        response = client_as(other).post(reverse(name, args=[target.public_id]))
        assert response.status_code == 404, name
    link.refresh_from_db()
    invited.refresh_from_db()
    assert link.status == "active" and invited.therapist is None
