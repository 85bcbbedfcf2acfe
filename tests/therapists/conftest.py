"""The therapists' role matrix: a therapist in every state of access to Alex and Sam, and a live
dialogue to facilitate. The people themselves are the root conftest's."""

import pytest

from couples import services as couple_services
from dialogues import services
from tests.factories import TherapistFactory, link_with_consent
from tests.helpers import form_token
from therapists import services as therapist_services

# Everyone in `roles` who may not reach Alex and Sam's dialogues as their facilitator.
NOT_ALLOWED = [
    "unlinked",
    "unverified",
    "never_verified",
    "withdrawn",
    "one_consent",
    "partner",
    "outsider",
    "staff",
]


@pytest.fixture
def roles(link, therapist, pair, alex, sam, outsider, staff, unverified_therapist):
    """Everyone who might try to reach Alex and Sam's dialogues, by role."""
    unlinked = TherapistFactory(email="unlinked@example.com", display_name="Dr. Unlinked")
    unverified = TherapistFactory(email="unverified@example.com", display_name="Dr. Unverified")
    link_with_consent(unverified, alex, sam)
    unverified.therapist_verified_at = None  # verification revoked after linking
    unverified.save(update_fields=["therapist_verified_at"])
    withdrawn = TherapistFactory(email="withdrawn@example.com", display_name="Dr. Withdrawn")
    gone = link_with_consent(withdrawn, alex, sam)
    therapist_services.consent_withdraw(user=sam, link_public_id=gone.public_id)
    one_consent = TherapistFactory(email="half@example.com", display_name="Dr. Half")
    link_with_consent(one_consent, alex)
    return {
        "linked": therapist,
        "unlinked": unlinked,
        "unverified": unverified,
        "withdrawn": withdrawn,
        "one_consent": one_consent,
        "never_verified": unverified_therapist,
        "partner": alex,
        "outsider": outsider,
        "staff": staff,
        "anonymous": None,
    }


@pytest.fixture
def live(link, dialogue, alex, sam):
    """A live dialogue at Alex's first "send" (Sam accepted the appointment)."""
    services.move_submit(
        session_public_id=dialogue.public_id, user=sam, move="accept_now", at=1, token=form_token()
    )
    dialogue.refresh_from_db()
    return dialogue


@pytest.fixture
def end_access(link, therapist, alex, sam, staff):
    """end_access(how) ends the therapist's access to Alex and Sam in one of the ways it can end:
    withdrawn, partner_leaves, partner_deletes_account, unverified, deactivated,
    therapist_deletes_account, therapist_ends or staff_ends."""

    def end(how: str) -> None:
        if how == "withdrawn":
            therapist_services.consent_withdraw(user=sam, link_public_id=link.public_id)
        elif how == "partner_leaves":
            couple_services.couple_leave(user=sam)
        elif how == "partner_deletes_account":
            couple_services.account_delete(user=sam)
        elif how == "unverified":
            couple_services.therapist_unverify(
                therapist=therapist, by=staff, reason="Licence lapsed"
            )
        elif how == "deactivated":
            couple_services.user_deactivate(user=therapist, by=staff)
        elif how == "therapist_deletes_account":
            couple_services.account_delete(user=therapist)
        elif how == "therapist_ends":
            therapist_services.therapist_link_end(
                therapist=therapist, link_public_id=link.public_id
            )
        elif how == "staff_ends":
            therapist_services.therapist_link_end_by_staff(link=link, by=staff)
        else:  # pragma: no cover
            raise ValueError(how)

    return end
