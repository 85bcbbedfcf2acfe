"""Starting a couple, new links, revoking them, and leaving."""

import pytest
from django.urls import reverse

from couples import selectors
from couples.models import Couple, Invitation, Membership
from tests.conftest import ROLES
from tests.factories import make_invitation
from tests.helpers import login_url, text_of

pytestmark = pytest.mark.django_db

START = reverse("couples:start")
LEAVE = reverse("couples:leave")
NEW_LINK = reverse("couples:invitation_new")

ALREADY = "You're already in a couple."
THERAPIST = "Therapist accounts can't join a couple as a partner."
STAFF = "Staff accounts can't join a couple as a partner."


def counts() -> tuple[int, int, int]:
    return Couple.objects.count(), Membership.objects.count(), Invitation.objects.count()


def revoke_url(invitation: Invitation) -> str:
    return reverse("couples:invitation_revoke", args=[invitation.public_id])


@pytest.fixture
def waiting(single):
    """single started a couple and waits for their partner: (invitation, token)."""
    return make_invitation(single)


# Every view is POST-only and needs a login.


@pytest.mark.parametrize("url", [START, LEAVE, NEW_LINK, "revoke"])
def test_it_asks_anonymous_people_to_log_in(url, client_as, waiting):
    url = revoke_url(waiting[0]) if url == "revoke" else url
    before = counts()
    response = client_as(None).post(url)
    assert response.status_code == 302
    assert response["Location"] == login_url(url)
    assert counts() == before
    waiting[0].refresh_from_db()
    assert waiting[0].is_pending


@pytest.mark.parametrize("url", [START, LEAVE, NEW_LINK, "revoke"])
def test_it_refuses_get(url, client_as, single, waiting):
    url = revoke_url(waiting[0]) if url == "revoke" else url
    before = counts()
    assert client_as(single).get(url).status_code == 405
    assert counts() == before


# couple_start

START_PROBLEM = {
    "single": None,
    "alex": ALREADY,
    "sam": ALREADY,
    "outsider": ALREADY,
    "therapist": THERAPIST,
    "unverified_therapist": THERAPIST,
    "staff": STAFF,
}


@pytest.mark.parametrize("role", ROLES[1:])
def test_it_starts_a_couple_only_for_a_single_partner(role, user_in_role, client_as, pair):
    user = user_in_role(role)
    couple_before = selectors.couple_for(user=user)
    before = counts()
    response = client_as(user).post(START, follow=True)
    assert response.redirect_chain == [("/", 302)]
    text = text_of(response)
    problem = START_PROBLEM[role]
    if problem is None:
        assert "Your couple is ready. Send the link below to your partner." in text
        couple = selectors.couple_for(user=user)
        assert couple is not None and couple.created_by == user
        assert counts() == (before[0] + 1, before[1] + 1, before[2] + 1)
    else:
        assert problem in text
        assert counts() == before
        assert selectors.couple_for(user=user) == couple_before


def test_it_emails_the_partner_when_asked(
    client_as, single, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(single).post(START, {"partner_email": "bob@example.com"}, follow=True)
    assert "We've emailed your invitation to bob@example.com." in text_of(response)
    assert [m.to for m in mailoutbox] == [["bob@example.com"]]
    assert "http://127.0.0.1:8000/invite/" in mailoutbox[0].body  # SITE_URL


@pytest.mark.parametrize("email", ["not-an-email", "bob@", "a" * 300 + "@example.com"])
def test_it_rejects_a_bad_email_and_starts_nothing(email, client_as, single, mailoutbox):
    response = client_as(single).post(START, {"partner_email": email}, follow=True)
    assert "Please check the email address." in text_of(response)
    assert counts() == (0, 0, 0)
    assert mailoutbox == []


def test_it_rejects_your_own_email_and_starts_nothing(client_as, single):
    response = client_as(single).post(START, {"partner_email": "Sasha@example.com"}, follow=True)
    assert "That's your own email address; please enter your partner's." in text_of(response)
    assert counts() == (0, 0, 0)


# invitation_new

NEW_LINK_PROBLEM = {
    "single": "Start a couple first.",
    "alex": "Your couple already has two partners.",
    "sam": "Your couple already has two partners.",
    "outsider": "Your couple already has two partners.",
    "therapist": "Start a couple first.",
    "unverified_therapist": "Start a couple first.",
    "staff": "Start a couple first.",
}


@pytest.mark.parametrize("role", ROLES[1:])
def test_it_makes_no_new_links_for_people_without_a_waiting_couple(
    role, user_in_role, client_as, pair
):
    user = user_in_role(role)
    before = counts()
    response = client_as(user).post(NEW_LINK, follow=True)
    assert NEW_LINK_PROBLEM[role] in text_of(response)
    assert counts() == before


def test_it_replaces_the_link_with_a_new_one(client_as, single, waiting):
    old, old_token = waiting
    client = client_as(single)
    response = client.post(NEW_LINK, follow=True)
    text = text_of(response)
    assert "Here is a new link. Earlier links no longer work." in text
    old.refresh_from_db()
    assert old.status == Invitation.Status.REVOKED
    new = selectors.pending_invitations(couple=old.couple).get()
    assert new != old
    html = response.content.decode()
    assert "/invite/" in html and f"/invite/{old_token}/" not in html


def test_it_emails_a_new_link_when_asked(
    client_as, single, waiting, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client_as(single).post(
            NEW_LINK, {"partner_email": "bob@example.com"}, follow=True
        )
    assert "We've emailed a new link to bob@example.com." in text_of(response)
    assert len(mailoutbox) == 1


def test_it_rejects_a_bad_email_for_a_new_link(client_as, single, waiting):
    response = client_as(single).post(NEW_LINK, {"partner_email": "nope"}, follow=True)
    assert "Please check the email address." in text_of(response)
    waiting[0].refresh_from_db()
    assert waiting[0].is_pending
    assert Invitation.objects.count() == 1


def test_it_rejects_your_own_email_for_a_new_link(client_as, single, waiting):
    response = client_as(single).post(NEW_LINK, {"partner_email": single.email}, follow=True)
    assert "That's your own email address" in text_of(response)
    waiting[0].refresh_from_db()
    assert waiting[0].is_pending
    assert Invitation.objects.count() == 1


# invitation_revoke


def test_it_revokes_your_own_link(client_as, single, waiting):
    response = client_as(single).post(revoke_url(waiting[0]), follow=True)
    assert response.redirect_chain == [("/", 302)]
    assert "The invitation link no longer works." in text_of(response)
    waiting[0].refresh_from_db()
    assert waiting[0].status == Invitation.Status.REVOKED


@pytest.mark.parametrize("role", ROLES[2:])  # everyone but the maker
def test_it_lets_nobody_else_revoke_a_link(role, user_in_role, client_as, waiting, pair):
    response = client_as(user_in_role(role)).post(revoke_url(waiting[0]), follow=True)
    assert "That invitation wasn't found." in text_of(response)
    waiting[0].refresh_from_db()
    assert waiting[0].is_pending


def test_it_says_a_used_link_cant_be_revoked(client_as, single, waiting, alex, pair):
    from couples import services
    from tests.factories import UserFactory

    services.invitation_accept(user=UserFactory(), token=waiting[1])
    response = client_as(single).post(revoke_url(waiting[0]), follow=True)
    assert "That invitation can no longer be revoked." in text_of(response)
    waiting[0].refresh_from_db()
    assert waiting[0].status == Invitation.Status.ACCEPTED


def test_it_says_an_unknown_link_wasnt_found(client_as, single, waiting):
    url = reverse("couples:invitation_revoke", args=["no-such-id"])
    response = client_as(single).post(url, follow=True)
    assert "That invitation wasn't found." in text_of(response)
    waiting[0].refresh_from_db()
    assert waiting[0].is_pending


# couple_leave


@pytest.mark.parametrize("role", ["alex", "sam"])
def test_it_ends_the_couple_for_both(role, user_in_role, client_as, pair, alex, sam):
    response = client_as(user_in_role(role)).post(LEAVE, follow=True)
    text = text_of(response)
    assert "You've left the couple. Your past dialogues are kept." in text
    assert "You're not paired with your partner yet" in text
    pair.refresh_from_db()
    assert not pair.is_active
    assert pair.memberships.count() == 2
    other = sam if role == "alex" else alex
    assert "You're not paired with your partner yet" in text_of(client_as(other).get("/"))


def test_it_leaves_other_couples_alone(client_as, pair, outsider):
    client_as(outsider).post(LEAVE)
    pair.refresh_from_db()
    assert pair.is_active
    assert Couple.objects.filter(is_active=True).get() == pair


def test_it_lets_a_waiting_partner_give_up(client_as, single, waiting):
    response = client_as(single).post(LEAVE, follow=True)
    assert "You've left the couple." in text_of(response)
    waiting[0].refresh_from_db()
    assert waiting[0].status == Invitation.Status.REVOKED
    assert selectors.couple_for(user=single) is None


@pytest.mark.parametrize("role", ["single", "therapist", "unverified_therapist", "staff"])
def test_it_says_when_there_is_no_couple_to_leave(role, user_in_role, client_as, pair):
    response = client_as(user_in_role(role)).post(LEAVE, follow=True)
    assert "You're not in a couple." in text_of(response)
    pair.refresh_from_db()
    assert pair.is_active
