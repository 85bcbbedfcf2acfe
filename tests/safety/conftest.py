"""People for the couples tests: the same cast as tests/dialogues/conftest.py."""

from tests.dialogues.conftest import (  # noqa: F401
    alex,
    outsider,
    pair,
    people,
    sam,
    single,
    staff,
    therapist,
)
