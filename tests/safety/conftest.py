import pytest

from tests.factories import make_couple


@pytest.fixture
def unscreened(alex, sam):
    """(alex, sam), paired, before either has answered the safety questions."""
    make_couple(alex, sam)
    return alex, sam
