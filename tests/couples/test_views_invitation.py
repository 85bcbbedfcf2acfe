from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from couples import selectors
from couples.models import Invitation, Membership
from couples.views import PENDING_INVITATION
from tests.conftest import ROLES
from tests.factories import UserFactory, make_invitation
from tests.helpers import login_url, text_of

pytestmark = pytest.mark.django_db

ALREADY_PAIRED = "You're already in a couple. Leave it first if you want to join this one."
THERAPIST = "Therapist accounts can't join a couple as a partner."
STAFF = "Staff accounts can't join a couple as a partner."
# The problem each role has with someone else's invitation (None: they may accept it).
PROBLEM = {
    "anonymous": None,
    "single": None,
    "alex": ALREADY_PAIRED,
    "sam": ALREADY_PAIRED,
    "outsider": ALREADY_PAIRED,
    "therapist": THERAPIST,
    "unverified_therapist": THERAPIST,
    "staff": STAFF,
}


@pytest.fixture
def robin_invites():
    """Robin started a couple and is waiting; returns (invitation, token, path)."""
    robin = UserFactory(email="robin@example.com", display_name="Robin")
    invitation, token = make_invitation(robin)
    return invitation, token, reverse("couples:invitation", args=[token])


@pytest.mark.parametrize("role", ROLES)
def test_it_shows_the_invitation_to_each_role(role, user_in_role, client_as, robin_invites, pair):
    invitation, _, path = robin_invites
    response = client_as(user_in_role(role)).get(path)
    assert response.status_code == 200
    text = text_of(response)
    problem = PROBLEM[role]
    if problem:
        assert "This link can't be used" in text
        assert problem in text
        assert "Accept and pair up" not in text
    else:
        assert "Robin invites you to pair up" in text
    if role == "anonymous":
        assert "To accept, create an account or log in." in text
        assert f"/accounts/signup/?next={path}" in response.content.decode().replace("%2F", "/")
        assert "Accept and pair up" not in text
    elif problem is None:
        assert "Accept and pair up" in text
    invitation.refresh_from_db()
    assert invitation.is_pending


@pytest.mark.parametrize("role", ROLES)
def test_it_lets_only_the_right_person_accept(role, user_in_role, client_as, robin_invites, pair):
    invitation, _, path = robin_invites
    user = user_in_role(role)
    couple_before = user and selectors.couple_for(user=user)
    response = client_as(user).post(path, follow=True)
    invitation.refresh_from_db()
    text = text_of(response)
    if role == "anonymous":
        assert response.redirect_chain[0][0].startswith("/accounts/login/?next=")
        assert invitation.is_pending
    elif role == "single":
        assert response.redirect_chain == [("/", 302)]
        assert "You're now paired with Robin." in text
        assert "You're paired with Robin" in text
        assert invitation.accepted_by == user
        assert selectors.partner_of(user=invitation.invited_by) == user
    else:
        assert response.redirect_chain == [(path, 302)]
        assert PROBLEM[role] in text
        assert invitation.is_pending
        assert selectors.couple_for(user=user) == couple_before
        assert invitation.couple.memberships.count() == 1


def test_it_sends_anonymous_accepts_to_log_in_and_back(client_as, robin_invites):
    _, _, path = robin_invites
    response = client_as(None).post(path)
    assert response.status_code == 302
    assert response["Location"] in (login_url(path), f"/accounts/login/?next={path}")


def test_it_shows_the_maker_their_own_invitation_as_unusable(client_as, robin_invites):
    invitation, _, path = robin_invites
    client = client_as(invitation.invited_by)
    text = text_of(client.get(path))
    assert "This is your own invitation — send the link to your partner." in text
    response = client.post(path, follow=True)
    assert "This is your own invitation" in text_of(response)
    assert invitation.couple.memberships.count() == 1


def test_it_remembers_an_invitation_opened_before_logging_in(client_as, robin_invites):
    _, token, path = robin_invites
    client = client_as(None)
    client.get(path)
    assert client.session[PENDING_INVITATION] == token


def test_it_doesnt_remember_an_unusable_invitation(client_as, robin_invites):
    invitation, _, path = robin_invites
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    client = client_as(None)
    client.get(path)
    assert PENDING_INVITATION not in client.session


def test_it_forgets_the_remembered_invitation_once_accepted(client_as, single, robin_invites):
    _, _, path = robin_invites
    client = client_as(None)
    client.get(path)
    client.force_login(single)
    client.post(path)
    assert PENDING_INVITATION not in client.session
    assert "You have an invitation" not in text_of(client.get("/"))


@pytest.mark.parametrize("token", ["made-up-token", "x" * 300])
@pytest.mark.parametrize("role", ["anonymous", "single"])
def test_it_says_an_unknown_link_isnt_valid(token, role, user_in_role, client_as):
    client = client_as(user_in_role(role))
    path = reverse("couples:invitation", args=[token])
    response = client.get(path)
    assert response.status_code == 404
    assert "This invitation link isn't valid. Please ask your partner for a new one." in text_of(
        response
    )
    assert PENDING_INVITATION not in client.session
    if role != "anonymous":
        response = client.post(path, follow=True)
        assert "This invitation link isn't valid." in text_of(response)
        assert not Membership.objects.exists()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"accepted_at": timezone.now()}, "This invitation has already been used."),
        ({"revoked_at": timezone.now()}, "This invitation was withdrawn."),
        ({"expires_at": timezone.now() - timedelta(hours=1)}, "This invitation has expired."),
    ],
)
@pytest.mark.parametrize("role", ["anonymous", "single"])
def test_it_explains_why_a_link_no_longer_works(
    change, message, role, user_in_role, client_as, robin_invites
):
    invitation, _, path = robin_invites
    Invitation.objects.filter(pk=invitation.pk).update(**change)
    client = client_as(user_in_role(role))
    response = client.get(path)
    assert response.status_code == 200
    text = text_of(response)
    assert message in text
    assert "Robin invites you" not in text
    assert "Accept and pair up" not in text
    if role != "anonymous":
        assert message in text_of(client.post(path, follow=True))
        assert invitation.couple.memberships.count() == 1


def test_it_refuses_a_link_twice(client_as, single, robin_invites):
    _, _, path = robin_invites
    client_as(single).post(path)
    late = UserFactory()
    response = client_as(late).post(path, follow=True)
    assert "This invitation has already been used." in text_of(response)
    assert selectors.couple_for(user=late) is None


def test_it_only_allows_get_and_post(client_as, single, robin_invites):
    _, _, path = robin_invites
    assert client_as(single).put(path).status_code == 405
