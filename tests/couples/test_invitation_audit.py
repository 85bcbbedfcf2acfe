"""Every change to an invitation is audited by its service: issued, replaced, revoked by the
partner or by staff, accepted, and revoked when the couple ends."""

from couples import services
from couples.models import Invitation
from security.models import AuditEvent
from tests.factories import UserFactory, make_invitation


def actions(invitation: Invitation) -> list[tuple[str, object]]:
    return [
        (e.action, e.details.get("reason"))
        for e in AuditEvent.objects.filter(target_id=invitation.public_id).order_by("pk")
    ]


def test_issuing_and_replacing_an_invitation_are_audited(db):
    first, _ = make_invitation()
    second = services.invitation_issue(user=first.invited_by, couple=first.couple).invitation
    assert actions(first) == [("invitation.issued", None), ("invitation.revoked", "replaced")]
    assert actions(second) == [("invitation.issued", None)]


def test_a_partner_revoking_their_invitation_is_audited(db):
    invitation, _ = make_invitation()
    services.invitation_revoke(
        user=invitation.invited_by, invitation_public_id=invitation.public_id
    )
    event = AuditEvent.objects.get(action="invitation.revoked")
    assert event.actor == invitation.invited_by and event.details == {"reason": "revoked"}


def test_accepting_and_the_couple_ending_are_audited(db):
    invitation, token = make_invitation()
    joiner = UserFactory()
    services.invitation_accept(user=joiner, token=token)
    assert ("invitation.accepted", None) in actions(invitation)
    later, _ = make_invitation(UserFactory())
    services.couple_leave(user=later.invited_by)
    assert actions(later)[-1] == ("invitation.revoked", "couple_ended")
    assert (
        AuditEvent.objects.get(target_id=later.public_id, action="invitation.revoked").actor is None
    )
