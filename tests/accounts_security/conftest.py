from tests.roles import *  # noqa: F403 - the role fixtures
