"""A couple has at most one open invitation link, and the database says so.

"A new link replaces the old one": issuing revokes every earlier link of the couple that is
neither accepted nor revoked — expired ones too, since expiry can't be part of a constraint
— inside a lock on the couple's row, so two requests at once can't both leave theirs open.
The partial unique constraint `one_open_invitation_per_couple` backs it; a data migration
first revokes the extras a database may already hold.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from couples import selectors, services
from couples.models import Couple, Invitation
from security.models import AuditEvent
from tests.factories import CoupleFactory, InvitationFactory, UserFactory
from tests.helpers import at_once

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and real threads"
)


def _open(couple: Couple):
    return Invitation.objects.filter(couple=couple, accepted_at=None, revoked_at=None)


@pytest.fixture
def waiting(db):
    """A partner who started a couple and waits for the other: (person, couple)."""
    person = UserFactory()
    return person, CoupleFactory(created_by=person, partners=[person])


def test_a_new_link_revokes_the_open_one_and_an_expired_one(waiting):
    person, couple = waiting
    expired = InvitationFactory(
        couple=couple, invited_by=person, expires_at=timezone.now() - timedelta(days=1)
    )
    issued = services.invitation_issue(user=person, couple=couple)
    expired.refresh_from_db()
    assert expired.revoked_at is not None  # no longer holds the couple's one open place
    newer = services.invitation_issue(user=person, couple=couple)
    assert list(_open(couple)) == [newer.invitation]
    assert list(selectors.pending_invitations(couple=couple)) == [newer.invitation]
    issued.invitation.refresh_from_db()
    assert issued.invitation.status == Invitation.Status.REVOKED


def test_the_database_refuses_a_second_open_invitation(waiting):
    person, couple = waiting
    InvitationFactory(couple=couple, invited_by=person)
    InvitationFactory(couple=couple, invited_by=person, revoked_at=timezone.now())
    InvitationFactory(couple=couple, invited_by=person, accepted_at=timezone.now())
    with pytest.raises(IntegrityError), transaction.atomic():
        InvitationFactory(couple=couple, invited_by=person)
    with pytest.raises(IntegrityError), transaction.atomic():  # expired is still open
        InvitationFactory(
            couple=couple, invited_by=person, expires_at=timezone.now() - timedelta(days=1)
        )
    InvitationFactory(invited_by=person)  # another couple has its own


@on_postgresql
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("attempt", range(3))  # a few rounds: a lucky ordering can't hide a bug
def test_ten_new_links_at_once_leave_exactly_one_working(attempt, client_as):
    person = UserFactory()
    couple = CoupleFactory(created_by=person, partners=[person])
    clients = [client_as(person) for _ in range(10)]
    results = at_once(
        *[lambda c=c: c.post("/couple/invitations/new/", {"partner_email": ""}) for c in clients]
    )
    assert [getattr(r, "status_code", r) for r in results] == [302] * 10
    assert _open(couple).count() == 1
    assert selectors.pending_invitations(couple=couple).count() == 1
    assert Invitation.objects.filter(couple=couple).count() == 10
    assert AuditEvent.objects.filter(action="invitation.revoked").count() == 9


@on_postgresql
@pytest.mark.django_db(transaction=True)
def test_ten_issues_at_once_through_the_service_leave_one(waiting):
    person, couple = waiting
    results = at_once(*[lambda: services.invitation_issue(user=person, couple=couple)] * 10)
    assert all(isinstance(r, services.IssuedInvitation) for r in results), results
    [still_open] = _open(couple)
    assert still_open.pk == max(r.invitation.pk for r in results)  # the last one made wins


BEFORE = [("couples", "0007_therapist_links_move_to_therapists")]


@pytest.mark.django_db(transaction=True)
def test_a_database_with_several_open_links_per_couple_migrates():
    """The newest open link of each couple stays; the others are revoked, and audited."""
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    User = old.get_model("couples", "User")
    OldCouple = old.get_model("couples", "Couple")
    OldInvitation = old.get_model("couples", "Invitation")
    now = timezone.now()
    alex = User.objects.create(email="alex@example.com", display_name="Alex", public_id="a1")
    kim = User.objects.create(email="kim@example.com", display_name="Kim", public_id="k1")
    many = OldCouple.objects.create(public_id="c1", created_by=alex)
    one = OldCouple.objects.create(public_id="c2", created_by=kim)

    def invite(couple, by, name, minutes_ago, **extra):
        fields = {"expires_at": now + timedelta(days=7), **extra}
        return OldInvitation.objects.create(
            couple=couple,
            invited_by=by,
            public_id=name,
            token_hash=name.ljust(64, "0"),
            created_at=now - timedelta(minutes=minutes_ago),
            **fields,
        )

    invite(many, alex, "old-open", 50, expires_at=now - timedelta(days=1))  # expired
    invite(many, alex, "mid-open", 40)
    invite(many, alex, "new-open", 30)
    invite(many, alex, "accepted", 20, accepted_at=now)
    invite(many, alex, "revoked", 10, revoked_at=now - timedelta(minutes=5))
    invite(one, kim, "only-open", 5)

    executor = MigrationExecutor(connection)  # reload the graph, then all the way forward
    executor.migrate(executor.loader.graph.leaf_nodes())

    def state(name):
        invitation = Invitation.objects.get(public_id=name)
        return invitation.accepted_at is not None, invitation.revoked_at is not None

    assert state("new-open") == (False, False)  # the newest stays open
    assert state("mid-open") == (False, True)
    assert state("old-open") == (False, True)
    assert state("accepted") == (True, False)
    assert Invitation.objects.get(public_id="revoked").revoked_at == now - timedelta(minutes=5)
    assert state("only-open") == (False, False)  # another couple's one link is untouched
    revoked = AuditEvent.objects.filter(action="invitation.revoked")
    assert sorted(revoked.values_list("target_id", flat=True)) == ["mid-open", "old-open"]
    assert all(e.details == {"reason": "one_open_per_couple"} for e in revoked)
    with pytest.raises(IntegrityError), transaction.atomic():
        Invitation.objects.create(
            couple_id=Couple.objects.get(public_id="c2").pk,
            invited_by_id=kim.pk,
            token_hash="x" * 64,
            expires_at=now + timedelta(days=7),
        )
