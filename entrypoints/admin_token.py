"""The owner token: configured, or on the embedded default generated once and kept."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import structlog

from entrypoints.settings import Settings

log = structlog.get_logger()


def admin_token(settings: Settings) -> str:
    if settings.admin_token:
        return settings.admin_token
    path = settings.data_dir / "admin_token"
    if path.exists():
        log.info("admin_token_loaded", path=str(path))
        return path.read_text().strip()
    token = secrets.token_urlsafe(32)
    _write_private(path, token)
    # Printed once, at creation; afterwards it is read from the file.
    print(f"\nChatConnect admin token (saved in {path}):\n\n    {token}\n", flush=True)
    return token


def _write_private(path: Path, token: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(token + "\n")
