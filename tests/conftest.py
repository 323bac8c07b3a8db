from tests.support.containers import *  # noqa: F403
from tests.support.llm import *  # noqa: F403
from tests.support.postgres import *  # noqa: F403
from tests.support.redis import *  # noqa: F403
