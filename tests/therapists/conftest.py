"""People around one couple (Alex and Sam) and therapists in every state of access.

Therapists and staff all have two-factor authentication (tests.mfa.give_mfa): the middleware
sends anyone in those roles without it to the set-up page, which would hide a 404.
"""

import pytest
from django.utils import timezone

from couples.models import User
from dialogues import services
from tests.dialogues import conftest as dialogue_fixtures
from tests.dialogues.conftest import make_couple, make_person
from tests.mfa import give_mfa
from therapists import services as therapist_services

# The dialogue tests' people, shared here: Alex and Sam (a couple ready for dialogue), an
# outsider, staff and Dr. Rivera (a verified therapist, linked by the `link` fixture below).
alex = dialogue_fixtures.alex
sam = dialogue_fixtures.sam
pair = dialogue_fixtures.pair
outsider = dialogue_fixtures.outsider
dialogue = dialogue_fixtures.dialogue
therapist = dialogue_fixtures.therapist
staff = dialogue_fixtures.staff
single = dialogue_fixtures.single
__all__ = ["make_couple", "make_person"]


def make_therapist(email: str, name: str, *, verified: bool = True) -> User:
    """Another therapist, with two-factor set up like every therapist must."""
    person = make_person(
        email,
        name,
        kind=User.Kind.THERAPIST,
        therapist_verified_at=timezone.now() if verified else None,
    )
    give_mfa(person)
    return person


def link_with_consent(therapist: User, first: User, second: User | None = None):
    """The code flow: the therapist makes a code, `first` enters it, `second` consents."""
    link = therapist_services.link_code_issue(therapist=therapist)
    link = therapist_services.link_code_redeem(user=first, code=link.code)
    if second is not None:
        link = therapist_services.consent_give(user=second, link_public_id=link.public_id)
    link.refresh_from_db()
    return link


@pytest.fixture
def link(therapist, pair, alex, sam):
    return link_with_consent(therapist, alex, sam)


@pytest.fixture
def roles(link, therapist, pair, alex, sam, outsider, staff, unverified_therapist):
    """Everyone who might try to reach Alex and Sam's dialogues, by role."""
    unlinked = make_therapist("unlinked@example.com", "Dr. Unlinked")
    unverified = make_therapist("unverified@example.com", "Dr. Unverified")
    link_with_consent(unverified, alex, sam)
    unverified.therapist_verified_at = None  # verification revoked after linking
    unverified.save(update_fields=["therapist_verified_at"])
    withdrawn = make_therapist("withdrawn@example.com", "Dr. Withdrawn")
    gone = link_with_consent(withdrawn, alex, sam)
    therapist_services.consent_withdraw(user=sam, link_public_id=gone.public_id)
    one_consent = make_therapist("half@example.com", "Dr. Half")
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
def live(link, dialogue, alex, sam):
    """A live dialogue at Alex's first "send" (Sam accepted the appointment)."""
    services.move_submit(session_public_id=dialogue.public_id, user=sam, move="accept_now", at=1)
    dialogue.refresh_from_db()
    return dialogue


def at_mirror(session, alex, sam):
    """Alex sends, Sam mirrors: the dialogue is at "check" (rewind targets: send, mirror)."""
    session.refresh_from_db()
    services.move_submit(
        session_public_id=session.public_id,
        user=alex,
        move="send",
        payload={"text": "When you sleep in, I feel lonely."},
        at=session.step_seq,
    )
    session.refresh_from_db()
    services.move_submit(
        session_public_id=session.public_id,
        user=sam,
        move="mirror",
        payload={"text": "If I got it, you feel lonely."},
        at=session.step_seq,
    )
    session.refresh_from_db()
    return session
