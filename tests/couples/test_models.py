import secrets
from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from couples.models import (
    Couple,
    Invitation,
    Membership,
    User,
    hash_token,
    is_public_id,
    is_token,
    new_public_id,
)
from tests.factories import (
    InvitationFactory,
    StaffFactory,
    TherapistFactory,
    UnverifiedTherapistFactory,
    UserFactory,
    make_couple,
)

pytestmark = pytest.mark.django_db


def test_it_makes_unguessable_public_ids():
    ids = {new_public_id() for _ in range(200)}
    assert len(ids) == 200
    assert all(len(public_id) >= 22 for public_id in ids)  # 128 random bits


def test_it_gives_every_user_couple_and_invitation_a_public_id():
    couple, a, _ = make_couple()
    invitation = InvitationFactory(couple=couple, invited_by=a)
    for obj in (a, couple, invitation):
        assert len(obj.public_id) >= 22
        assert str(obj.pk) != obj.public_id


def test_it_hashes_tokens_with_sha256():
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_it_lowercases_email_on_create_user():
    user = User.objects.create_user(email="Mixed.Case@Example.COM", password="x", display_name="M")
    assert user.email == "mixed.case@example.com"


def test_it_requires_an_email():
    with pytest.raises(ValueError, match="email"):
        User.objects.create_user(email="", password="x")


def test_it_makes_superusers_staff():
    user = User.objects.create_superuser(email="root@example.com", password="x", display_name="R")
    assert user.is_staff and user.is_superuser
    assert not user.is_partner


def test_it_knows_each_kind_of_person():
    partner, therapist = UserFactory(), TherapistFactory()
    unverified, staff = UnverifiedTherapistFactory(), StaffFactory()
    assert partner.is_partner and not partner.is_therapist
    assert therapist.is_therapist and therapist.is_verified_therapist and not therapist.is_partner
    assert unverified.is_therapist and not unverified.is_verified_therapist
    assert not staff.is_partner and not staff.is_therapist


def test_it_shows_display_name():
    user = UserFactory(display_name="Robin")
    assert str(user) == "Robin"
    assert user.get_full_name() == user.get_short_name() == "Robin"


def test_it_allows_one_active_couple_per_person():
    _, a, _ = make_couple()
    other = Couple.objects.create(created_by=a)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(couple=other, user=a)


def test_it_allows_old_inactive_memberships():
    couple, a, _ = make_couple()
    couple.memberships.update(is_active=False, left_at=timezone.now())
    other = Couple.objects.create(created_by=a)
    Membership.objects.create(couple=other, user=a)
    assert a.memberships.count() == 2


def test_it_allows_one_membership_per_couple_and_person():
    couple, a, _ = make_couple()
    couple.memberships.update(is_active=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        Membership.objects.create(couple=couple, user=a, is_active=False)


@pytest.mark.parametrize(
    ("changes", "status"),
    [
        ({}, Invitation.Status.PENDING),
        ({"accepted_at": timezone.now()}, Invitation.Status.ACCEPTED),
        ({"revoked_at": timezone.now()}, Invitation.Status.REVOKED),
        ({"expires_at": timezone.now() - timedelta(seconds=1)}, Invitation.Status.EXPIRED),
        (
            {"accepted_at": timezone.now(), "expires_at": timezone.now() - timedelta(days=1)},
            Invitation.Status.ACCEPTED,
        ),
    ],
)
def test_it_works_out_invitation_status(changes, status):
    invitation = InvitationFactory(**changes)
    assert invitation.status == status
    assert invitation.is_pending == (status == Invitation.Status.PENDING)
    assert status.value in str(invitation)


@pytest.mark.parametrize("value", ["", "x" * 65, "a\x00b", "<b>", "a b", "ünï", "a.b", None, 7])
def test_what_could_never_be_a_public_id_is_told_apart_without_the_database(value):
    assert not is_public_id(value)
    assert not is_token(value)


def test_every_public_id_and_form_token_we_make_is_one():
    assert all(is_public_id(new_public_id()) for _ in range(200))
    assert all(is_token(secrets.token_urlsafe(16)) for _ in range(200))  # as forms make them
