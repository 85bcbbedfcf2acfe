import re
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from couples import selectors, services
from couples.models import Couple, Invitation, Membership, hash_token
from couples.services import CoupleError
from tests.factories import (
    StaffFactory,
    TherapistFactory,
    UnverifiedTherapistFactory,
    UserFactory,
    make_invitation,
)
from tests.helpers import at_once

pytestmark = pytest.mark.django_db

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and real threads"
)


def refused(message: str):
    """Expect a CoupleError whose message contains `message` (plain text, not a pattern)."""
    return pytest.raises(CoupleError, match=re.escape(message))


def counts() -> tuple[int, int, int]:
    return Couple.objects.count(), Membership.objects.count(), Invitation.objects.count()


# couple_create


def test_it_starts_a_couple_with_its_maker_and_a_link(single, settings):
    issued = services.couple_create(user=single)
    couple = issued.invitation.couple
    assert couple.is_active and couple.created_by == single
    assert list(couple.memberships.values_list("user", flat=True)) == [single.pk]
    assert selectors.couple_for(user=single) == couple
    assert issued.invitation.is_pending
    assert issued.invitation.invited_by == single
    assert issued.invitation.email == ""
    assert issued.url == f"{settings.SITE_URL}/invite/{issued.token}/"


def test_it_stores_only_the_tokens_hash(single):
    issued = services.couple_create(user=single)
    assert len(issued.token) >= 40
    assert issued.invitation.token_hash == hash_token(issued.token)
    assert not Invitation.objects.filter(token_hash=issued.token).exists()


def test_it_lets_invitations_expire_after_seven_days(single):
    issued = services.couple_create(user=single)
    lifetime = issued.invitation.expires_at - issued.invitation.created_at
    assert timedelta(days=7) - timedelta(seconds=5) < lifetime <= timedelta(days=7)


def test_it_emails_the_link_after_commit(single, mailoutbox, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        issued = services.couple_create(user=single, partner_email=" Bob@Example.com ")
    assert issued.invitation.email == "bob@example.com"
    assert len(mailoutbox) == 1
    mail = mailoutbox[0]
    assert mail.to == ["bob@example.com"]
    assert mail.subject == "[Imago] Sasha invites you to pair up"
    assert issued.url in mail.body
    assert "7 days" in mail.body


def test_it_sends_no_email_without_an_address(
    single, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.couple_create(user=single)
    assert mailoutbox == []


def test_it_refuses_your_own_email_and_makes_nothing(single, mailoutbox):
    with refused("That's your own email address"):
        services.couple_create(user=single, partner_email="SASHA@example.com")
    assert counts() == (0, 0, 0)
    assert mailoutbox == []


def test_it_refuses_a_second_couple(alex, pair):
    before = counts()
    with refused("You're already in a couple."):
        services.couple_create(user=alex)
    assert counts() == before


def test_it_refuses_a_second_couple_while_waiting_for_a_partner(single):
    services.couple_create(user=single)
    with refused("You're already in a couple."):
        services.couple_create(user=single)
    assert counts() == (1, 1, 1)


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (TherapistFactory, "Therapist accounts can't join a couple as a partner."),
        (UnverifiedTherapistFactory, "Therapist accounts can't join a couple as a partner."),
        (StaffFactory, "Staff accounts can't join a couple as a partner."),
    ],
)
def test_it_refuses_couples_for_therapists_and_staff(factory, message):
    with refused(message):
        services.couple_create(user=factory())
    assert counts() == (0, 0, 0)


# invitation_issue


def test_it_replaces_the_old_link_with_a_new_one(single):
    first, first_token = make_invitation(single)
    second, _ = make_invitation(single)
    first.refresh_from_db()
    assert first.status == Invitation.Status.REVOKED
    assert second.is_pending
    assert list(selectors.pending_invitations(couple=second.couple)) == [second]
    with refused("withdrawn"):
        services.invitation_accept(user=UserFactory(), token=first_token)


def test_it_issues_links_only_for_your_own_couple(single, pair):
    with refused("You can only invite a partner to your own couple."):
        services.invitation_issue(user=single, couple=pair)
    assert not pair.invitations.exists()


def test_it_issues_no_links_for_an_ended_couple(single):
    invitation, _ = make_invitation(single)
    services.couple_leave(user=single)
    with refused("You can only invite a partner to your own couple."):
        services.invitation_issue(user=single, couple=invitation.couple)
    assert invitation.couple.invitations.count() == 1


def test_it_issues_no_links_when_the_couple_is_full(alex, pair):
    with refused("Your couple already has two partners."):
        services.invitation_issue(user=alex, couple=pair)
    assert not pair.invitations.exists()


# invitation_revoke


def test_it_revokes_a_pending_link(single):
    invitation, token = make_invitation(single)
    services.invitation_revoke(user=single, invitation_public_id=invitation.public_id)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    assert services.invitation_problem(
        invitation=selectors.invitation_by_token(token=token), user=UserFactory()
    ).startswith("This invitation was withdrawn.")


def test_it_revokes_only_your_own_couples_links(single, alex, pair):
    invitation, _ = make_invitation(single)
    with refused("That invitation wasn't found."):
        services.invitation_revoke(user=alex, invitation_public_id=invitation.public_id)
    invitation.refresh_from_db()
    assert invitation.is_pending


def test_it_says_an_unknown_invitation_wasnt_found(single):
    with refused("That invitation wasn't found."):
        services.invitation_revoke(user=single, invitation_public_id="nope")


def test_it_cant_revoke_a_used_link(single):
    invitation, token = make_invitation(single)
    services.invitation_accept(user=UserFactory(), token=token)
    with refused("That invitation can no longer be revoked."):
        services.invitation_revoke(user=single, invitation_public_id=invitation.public_id)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED


def test_it_cant_revoke_twice(single):
    invitation, _ = make_invitation(single)
    services.invitation_revoke(user=single, invitation_public_id=invitation.public_id)
    with refused("That invitation can no longer be revoked."):
        services.invitation_revoke(user=single, invitation_public_id=invitation.public_id)


def test_it_lets_no_former_partner_revoke_links(single):
    invitation, _ = make_invitation(single)
    services.couple_leave(user=single)
    with refused("That invitation wasn't found."):
        services.invitation_revoke(user=single, invitation_public_id=invitation.public_id)


# invitation_problem


def test_it_finds_no_problem_for_an_invited_partner(single):
    invitation, _ = make_invitation()
    assert services.invitation_problem(invitation=invitation, user=single) is None


def test_it_finds_no_problem_before_you_log_in():
    invitation, _ = make_invitation()
    assert services.invitation_problem(invitation=invitation, user=None) is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("unknown", "This invitation link isn't valid. Please ask your partner for a new one."),
        ("accepted", "This invitation has already been used."),
        ("revoked", "This invitation was withdrawn. Please ask your partner for a new one."),
        ("expired", "This invitation has expired. Please ask your partner for a new one."),
        ("ended", "This couple is no longer active."),
    ],
)
def test_it_explains_why_a_link_cant_be_used(change, message):
    invitation, _ = make_invitation()
    now = timezone.now()
    if change == "unknown":
        invitation = None
    elif change == "accepted":
        invitation.accepted_at = now
    elif change == "revoked":
        invitation.revoked_at = now
    elif change == "expired":
        invitation.expires_at = now - timedelta(minutes=1)
    elif change == "ended":
        invitation.couple.is_active = False
    assert services.invitation_problem(invitation=invitation, user=UserFactory()) == message
    assert services.invitation_problem(invitation=invitation, user=None) == message


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("maker", "This is your own invitation — send the link to your partner."),
        ("alex", "You're already in a couple. Leave it first if you want to join this one."),
        ("therapist", "Therapist accounts can't join a couple as a partner."),
        ("unverified_therapist", "Therapist accounts can't join a couple as a partner."),
        ("staff", "Staff accounts can't join a couple as a partner."),
    ],
)
def test_it_explains_who_cant_accept(role, message, user_in_role, single, pair):
    invitation, _ = make_invitation(single)
    user = single if role == "maker" else user_in_role(role)
    assert services.invitation_problem(invitation=invitation, user=user).startswith(message)


# invitation_accept


def test_it_pairs_the_invited_person(single):
    invitation, token = make_invitation()
    couple = services.invitation_accept(user=single, token=token)
    assert couple == invitation.couple
    assert selectors.couple_for(user=single) == couple
    assert selectors.partners_of(couple=couple) == [invitation.invited_by, single]
    assert selectors.partner_of(user=single) == invitation.invited_by
    assert selectors.partner_of(user=invitation.invited_by) == single
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.ACCEPTED
    assert invitation.accepted_by == single


@pytest.mark.parametrize(
    "token", ["", "x", "y" * 201, "not-a-real-token-but-long-enough-to-look-real"]
)
def test_it_refuses_unknown_tokens(single, token):
    make_invitation()
    before = counts()
    with refused("This invitation link isn't valid."):
        services.invitation_accept(user=single, token=token)
    assert counts() == before
    assert selectors.couple_for(user=single) is None


def test_it_refuses_a_used_link(single):
    _, token = make_invitation()
    services.invitation_accept(user=UserFactory(), token=token)
    with refused("This invitation has already been used."):
        services.invitation_accept(user=single, token=token)
    assert selectors.couple_for(user=single) is None


def test_it_refuses_an_expired_link(single):
    invitation, token = make_invitation()
    Invitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now())
    with refused("This invitation has expired."):
        services.invitation_accept(user=single, token=token)
    assert selectors.couple_for(user=single) is None
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


def test_it_refuses_a_revoked_link(single):
    invitation, token = make_invitation()
    services.invitation_revoke(
        user=invitation.invited_by, invitation_public_id=invitation.public_id
    )
    with refused("This invitation was withdrawn."):
        services.invitation_accept(user=single, token=token)
    assert selectors.couple_for(user=single) is None


def test_it_refuses_your_own_link(single):
    invitation, token = make_invitation(single)
    with refused("This is your own invitation"):
        services.invitation_accept(user=single, token=token)
    assert invitation.couple.memberships.count() == 1


@pytest.mark.parametrize("role", ["alex", "outsider"])
def test_it_refuses_people_already_in_a_couple(role, user_in_role, pair):
    user = user_in_role(role)
    own_couple = selectors.couple_for(user=user)
    invitation, token = make_invitation()
    with refused("You're already in a couple."):
        services.invitation_accept(user=user, token=token)
    assert selectors.couple_for(user=user) == own_couple
    assert invitation.couple.memberships.count() == 1


@pytest.mark.parametrize(
    ("role", "message"),
    [
        ("therapist", "Therapist accounts can't join"),
        ("unverified_therapist", "Therapist accounts can't join"),
        ("staff", "Staff accounts can't join"),
    ],
)
def test_it_refuses_therapists_and_staff(role, message, user_in_role):
    user = user_in_role(role)
    invitation, token = make_invitation()
    with refused(message):
        services.invitation_accept(user=user, token=token)
    assert not Membership.objects.filter(user=user).exists()
    invitation.refresh_from_db()
    assert invitation.is_pending


def test_it_refuses_when_the_couple_is_already_full(single):
    invitation, token = make_invitation()
    Membership.objects.create(couple=invitation.couple, user=UserFactory())
    with refused("This couple already has two partners."):
        services.invitation_accept(user=single, token=token)
    assert invitation.couple.memberships.count() == 2
    invitation.refresh_from_db()
    assert invitation.is_pending


def test_it_refuses_an_ended_couples_link(single):
    invitation, token = make_invitation()
    Couple.objects.filter(pk=invitation.couple_id).update(is_active=False)
    with refused("This couple is no longer active."):
        services.invitation_accept(user=single, token=token)
    assert selectors.couple_for(user=single) is None


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))  # a few rounds: a lucky ordering can't hide a bug
def test_it_lets_exactly_one_of_two_concurrent_accepts_win(attempt):
    invitation, token = make_invitation()
    first, second = UserFactory(), UserFactory()
    results = at_once(
        lambda: services.invitation_accept(user=first, token=token),
        lambda: services.invitation_accept(user=second, token=token),
    )
    assert sum(isinstance(r, Couple) for r in results) == 1, results
    [loser] = [r for r in results if isinstance(r, CoupleError)]
    assert loser.message == "This invitation has already been used."
    assert invitation.couple.memberships.count() == 2
    assert Membership.objects.filter(user__in=[first, second]).count() == 1
    invitation.refresh_from_db()
    assert invitation.accepted_by in (first, second)


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_it_keeps_one_person_in_one_couple_when_accepting_two_links_at_once(single):
    (_, token1), (_, token2) = make_invitation(), make_invitation()
    results = at_once(
        lambda: services.invitation_accept(user=single, token=token1),
        lambda: services.invitation_accept(user=single, token=token2),
    )
    assert sum(isinstance(r, Couple) for r in results) == 1, results
    [loser] = [r for r in results if isinstance(r, CoupleError)]
    assert "already in a couple" in loser.message
    assert Membership.objects.filter(user=single, is_active=True).count() == 1


# couple_leave


def test_it_ends_the_couple_for_both_and_keeps_its_history(pair, alex, sam):
    ended = services.couple_leave(user=sam)
    assert ended == pair
    pair.refresh_from_db()
    assert not pair.is_active and pair.ended_at is not None
    memberships = list(pair.memberships.all())
    assert [m.user for m in memberships] == [alex, sam]  # history kept
    assert all(not m.is_active and m.left_at == pair.ended_at for m in memberships)
    assert selectors.couple_for(user=alex) is None
    assert selectors.couple_for(user=sam) is None


def test_it_revokes_open_links_when_leaving(single):
    invitation, token = make_invitation(single)
    services.couple_leave(user=single)
    invitation.refresh_from_db()
    assert invitation.status == Invitation.Status.REVOKED
    with refused("withdrawn"):
        services.invitation_accept(user=UserFactory(), token=token)


def test_it_says_when_you_arent_in_a_couple(single):
    with refused("You're not in a couple."):
        services.couple_leave(user=single)


def test_it_cant_leave_twice(alex, sam, pair):
    services.couple_leave(user=alex)
    with refused("You're not in a couple."):
        services.couple_leave(user=sam)


def test_it_lets_both_start_new_couples_after_leaving(pair, alex, sam):
    services.couple_leave(user=alex)
    issued = services.couple_create(user=alex)
    assert selectors.couple_for(user=alex) == issued.invitation.couple != pair
    services.invitation_accept(user=sam, token=make_invitation()[1])
    assert selectors.couple_for(user=sam) not in (None, pair)


def test_it_lets_former_partners_pair_again(pair, alex, sam):
    services.couple_leave(user=alex)
    issued = services.couple_create(user=alex)
    services.invitation_accept(user=sam, token=issued.token)
    assert selectors.partner_of(user=sam) == alex
    assert Couple.objects.filter(is_active=True).count() == 1


# --- together on one device: the partner's permission ----------------------------------------


def test_device_sharing_is_allowed_once_and_withdrawn_with_an_audit(pair, alex, sam):
    from couples.models import DeviceSharing
    from security.models import AuditEvent

    assert services.device_sharing_allow(user=sam) is True
    assert services.device_sharing_allow(user=sam) is False  # a double click: one permission
    assert DeviceSharing.objects.filter(revoked_at__isnull=True).count() == 1
    assert selectors.device_sharing_allowed(couple_id=pair.pk, granted_by_id=sam.pk)
    assert not selectors.device_sharing_allowed(couple_id=pair.pk, granted_by_id=alex.pk)
    assert services.device_sharing_revoke(user=sam) == 1
    assert services.device_sharing_revoke(user=sam) == 0
    assert not selectors.device_sharing_allowed(couple_id=pair.pk, granted_by_id=sam.pk)
    actions = AuditEvent.objects.filter(actor=sam, action__startswith="device_sharing")
    assert list(actions.order_by("pk").values_list("action", flat=True)) == [
        "device_sharing.allowed",
        "device_sharing.revoked",
    ]


def test_device_sharing_needs_a_couple(single):
    with pytest.raises(services.CoupleError, match="once your partner has joined"):
        services.device_sharing_allow(user=single)


def test_a_permission_belongs_to_its_couple_only(pair, alex, sam):
    from couples.models import Couple

    services.device_sharing_allow(user=sam)
    other = Couple.objects.create(created_by=sam)
    assert not selectors.device_sharing_allowed(couple_id=other.pk, granted_by_id=sam.pk)
