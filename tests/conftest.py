from tests.support.postgres import *  # noqa: F403
