import pytest
from django.urls import reverse

from couples.views import NEW_INVITE_LINK, PENDING_INVITATION
from tests.conftest import ROLES
from tests.factories import UserFactory, make_invitation
from tests.helpers import text_of

pytestmark = pytest.mark.django_db

HOME = reverse("home")

# What each role sees on the home page, and what they must not see.
SEES = {
    "anonymous": (["Talk so that each of you feels heard.", "Create an account", "Log in"], []),
    "single": (
        ["Hello, Sasha", "You're not paired with your partner yet", "Start our couple"],
        ["Leave the couple", "You're paired with"],
    ),
    "alex": (["Hello, Alex", "You're paired with Sam", "Leave the couple"], ["Start our"]),
    "sam": (["Hello, Sam", "You're paired with Alex", "Leave the couple"], ["Start our"]),
    "outsider": (["Hello, Olly", "You're paired with Pat"], ["Alex", "Sam"]),
    "therapist": (
        ["Hello, Dr. Rivera", "Your therapist account", "Verified since"],
        ["Waiting for verification", "Start our couple", "Leave the couple"],
    ),
    "unverified_therapist": (
        ["Hello, Dr. New", "Waiting for verification."],
        ["Verified since", "Start our couple", "Leave the couple"],
    ),
    "staff": (["Hello, Stan", "Open the admin"], ["Start our couple", "Leave the couple"]),
}


@pytest.mark.parametrize("role", ROLES)
def test_it_shows_each_role_their_home(role, user_in_role, client_as, pair):
    response = client_as(user_in_role(role)).get(HOME)
    assert response.status_code == 200
    text = text_of(response)
    shown, hidden = SEES[role]
    for phrase in shown:
        assert phrase in text
    for phrase in hidden:
        assert phrase not in text
    if role != "anonymous":
        assert "Create an account" not in text


@pytest.mark.parametrize("role", ROLES)
def test_it_only_allows_get(role, user_in_role, client_as, pair):
    assert client_as(user_in_role(role)).post(HOME).status_code == 405


def test_it_shows_the_new_link_to_its_maker(single, client_as):
    client = client_as(single)
    response = client.post(reverse("couples:start"), follow=True)
    text = text_of(response)
    assert "Waiting for your partner to join" in text
    assert "Your couple is ready. Send the link below to your partner." in text
    link = client.session[NEW_INVITE_LINK]["url"]
    assert link.startswith("http://testserver/invite/")
    assert f'value="{link}"' in response.content.decode()
    assert "Copy link" in text


def test_the_waiting_page_is_live_and_a_paired_home_page_is_not_waiting(
    single, alex, pair, client_as
):
    client = client_as(single)
    html = client.post(reverse("couples:start"), follow=True).content.decode()
    assert html.count('ws-connect="/ws/home/?waiting=1"') == 1  # goes on when the partner joins
    assert 'id="couple-status"' in html and 'id="home-announcer"' in html
    paired = client_as(alex).get(HOME).content.decode()
    assert "?waiting=1" not in paired and 'ws-connect="/ws/home/"' in paired


def test_it_keeps_the_link_out_of_other_sessions(single, client_as):
    client_as(single).post(reverse("couples:start"))
    response = client_as(single).get(HOME)
    text = text_of(response)
    assert "Waiting for your partner to join" in text
    assert "For your privacy we only show a link once" in text
    assert "/invite/" not in response.content.decode()
    assert "Revoke this link" in text


def test_it_forgets_the_link_once_it_stops_working(single, client_as):
    client = client_as(single)
    client.post(reverse("couples:start"))
    invitation = single.invitations_sent.get()
    client.post(reverse("couples:invitation_revoke", args=[invitation.public_id]))
    response = client.get(HOME)
    assert "/invite/" not in response.content.decode()
    assert "There's no open invitation. Make a new link for your partner." in text_of(response)
    assert NEW_INVITE_LINK not in client.session


def test_it_lists_the_open_link_with_its_email(single, client_as):
    client = client_as(single)
    client.post(reverse("couples:start"), {"partner_email": "bob@example.com"})
    text = text_of(client.get(HOME))
    assert "Link sent to bob@example.com, valid until" in text


def test_it_offers_an_invitation_opened_before_logging_in(single, client_as):
    from tests.factories import make_invitation

    invitation, token = make_invitation()
    client = client_as(None)
    client.get(reverse("couples:invitation", args=[token]))
    client.force_login(single)
    response = client.get(HOME)
    text = text_of(response)
    assert "You have an invitation" in text
    assert f"{invitation.invited_by.display_name} invited you to pair up." in text
    assert reverse("couples:invitation", args=[token]) in response.content.decode()


def test_it_drops_a_remembered_invitation_that_cant_be_used(alex, client_as, pair):
    from tests.factories import make_invitation

    _, token = make_invitation()
    client = client_as(alex)
    session = client.session
    session[PENDING_INVITATION] = token
    session.save()
    response = client.get(HOME)
    assert "You have an invitation" not in text_of(response)
    assert PENDING_INVITATION not in client.session


def test_it_drops_a_remembered_unknown_invitation(single, client_as):
    client = client_as(single)
    session = client.session
    session[PENDING_INVITATION] = "made-up"
    session.save()
    assert "You have an invitation" not in text_of(client.get(HOME))
    assert PENDING_INVITATION not in client.session


def test_someone_invited_sees_the_invitation_and_no_form_to_start_a_couple(client_as, single):
    _, token = make_invitation(UserFactory(display_name="Robin"))
    client = client_as(single)
    session = client.session
    session[PENDING_INVITATION] = token
    session.save()
    text = text_of(client.get("/"))
    assert "Robin invited you to pair up." in text and "See the invitation" in text
    assert "Start our couple" not in text and "You're not paired" not in text
