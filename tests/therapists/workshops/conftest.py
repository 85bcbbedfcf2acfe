"""The workshop tests' one setup, on the root conftest's people: the presenter's workshop
(`make_workshop`: a teach segment, two practices), everyone who might try its pages by role,
and a practice under way for Alex and Sam."""

import pytest

from tests.factories import TherapistFactory, joined, make_workshop, practise
from therapists.workshops import services

ROLES = ["presenter", "participant", "outsider", "other_therapist", "staff", "anonymous"]


@pytest.fixture
def workshop(therapist):
    return make_workshop(therapist)


@pytest.fixture
def person(therapist, alex, outsider, staff):
    """person(role) -> who tries a workshop page or socket in that role (None: anonymous)."""
    people = {
        "presenter": therapist,
        "participant": alex,
        "outsider": outsider,
        "staff": staff,
        "anonymous": None,
        "other_therapist": TherapistFactory(email="other@example.com"),
    }
    return people.__getitem__


@pytest.fixture
def pair_joined(workshop, pair, alex, sam):
    """Alex and Sam joined the workshop (neither has its page open yet): their attendance."""
    return joined(workshop, alex, sam, present=False)


@pytest.fixture
def workshops_joined(request):
    """For a module's tests (`usefixtures`): Alex and Sam join whichever test takes `workshop`."""
    if "workshop" in request.fixturenames:
        request.getfixturevalue("pair_joined")


@pytest.fixture
def practising(workshop, pair_joined, alex):
    """Alex and Sam joined, Alex checked in, the first practice started and run: their
    practice dialogue."""
    services.presence_set(user=alex, workshop_public_id=workshop.public_id, present=True)
    _segment, run = services.segment_start(
        workshop=workshop, segment_public_id=practise(workshop).public_id
    )
    assert run is not None
    services.practice_run(run_id=run.pk)
    return practise(workshop).practices.get().session
