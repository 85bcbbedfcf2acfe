"""Every change to a therapist link is audited by its service: activation, and endings that
come with something else (the couple ending, the therapist's account changing)."""

from couples import services as couple_services
from security.models import AuditEvent
from therapists.models import TherapistLink


def test_access_beginning_is_audited_with_who_made_it_begin(link, sam):
    event = AuditEvent.objects.get(action="therapist_link.activated")
    assert (event.actor, event.target_id) == (sam, link.public_id)  # Sam consented last


def test_a_link_ending_with_the_couple_is_audited_without_an_actor(link, alex):
    couple_services.couple_leave(user=alex)
    link.refresh_from_db()
    assert link.end_reason == TherapistLink.EndReason.COUPLE_ENDED
    event = AuditEvent.objects.get(action="therapist_link.ended")
    assert event.actor is None and event.target_id == link.public_id
    assert event.details == {"reason": "couple_ended"}


def test_a_link_ending_when_the_therapist_is_unverified_is_audited(link, therapist, staff):
    couple_services.therapist_unverify(therapist=therapist, by=staff, reason="Licence lapsed")
    event = AuditEvent.objects.get(action="therapist_link.ended")
    assert event.target_id == link.public_id and event.details == {"reason": "unverified"}
