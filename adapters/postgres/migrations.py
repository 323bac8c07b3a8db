"""Alembic, run from code: the service migrates its own database on start."""

from __future__ import annotations

import threading
from pathlib import Path

from alembic.command import upgrade
from alembic.config import Config

# The project is installed editable, so the repository root (holding alembic.ini and
# alembic/) is two levels above this package.
PROJECT_ROOT = Path(__file__).resolve().parents[2]
ALEMBIC_INI = PROJECT_ROOT / "alembic.ini"

# alembic's `context` and `op` are module-global proxies: two runs in threads of one
# process would execute each other's statements (and deadlock on the advisory lock).
# Across processes the advisory lock in alembic/env.py does the serialising.
_one_run_per_process = threading.Lock()


def alembic_config(url: str) -> Config:
    config = Config(ALEMBIC_INI)
    # alembic.ini says `alembic`, relative to the working directory; make it absolute.
    config.set_main_option("script_location", str(PROJECT_ROOT / "alembic"))
    config.attributes["url"] = url
    config.attributes["configure_logging"] = False
    return config


def upgrade_to_head(url: str) -> None:
    """Blocking, and it runs its own event loop: call it from a thread (asyncio.to_thread)."""
    with _one_run_per_process:
        upgrade(alembic_config(url), "head")
