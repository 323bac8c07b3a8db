"""Every setting, parsed once from the environment into one typed object."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

import msgspec


class SettingsError(Exception):
    """A setting is missing or malformed; the message names the variable."""


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./data")
    environment: Literal["development", "production"] = "development"
    admin_token: str | None = None
    database_url: str | None = None
    database_pool_size: int = 10
    redis_url: str | None = None
    qdrant_url: str | None = None
    qdrant_api_key: str | None = None
    openai_api_key: str | None = None
    openai_base_url: str | None = None
    anthropic_api_key: str | None = None
    llm_free: str = "extractive"
    llm_paid: str = "extractive"
    embeddings: str = "local"
    worker_in_process: bool = True
    max_upload_bytes: int = 20 * 1024 * 1024
    max_message_chars: int = 4000
    retrieval_min_score: float = 0.2
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["auto", "json", "console"] = "auto"

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError(f"PORT must be between 1 and 65535, got {self.port}")
        if self.environment == "production" and not self.admin_token:
            raise SettingsError("ADMIN_TOKEN is required when ENVIRONMENT=production")
        if self.max_upload_bytes <= 0:
            raise SettingsError("MAX_UPLOAD_BYTES must be positive")
        if not 0 < self.max_message_chars <= 100_000:
            raise SettingsError("MAX_MESSAGE_CHARS must be between 1 and 100000")
        if not -1.0 <= self.retrieval_min_score <= 1.0:
            raise SettingsError("RETRIEVAL_MIN_SCORE must be between -1 and 1")
        if self.database_pool_size < 1:
            raise SettingsError("DATABASE_POOL_SIZE must be at least 1")

    @property
    def llm_chains(self) -> dict[str, list[str]]:
        """Model specs per plan, in fallback order (e.g. "openai:gpt-4o-mini")."""
        return {
            "free": [s.strip() for s in self.llm_free.split(",") if s.strip()],
            "paid": [s.strip() for s in self.llm_paid.split(",") if s.strip()],
        }


ENV_NAMES = {name: name.upper() for name in Settings.__struct_fields__}
_FIELD_IN_ERROR = re.compile(r"at `\$\.(\w+)`")


def _path(kind: type, value: object) -> Path:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise NotImplementedError


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    environ = os.environ if environ is None else environ
    raw = {
        field: environ[env]
        for field, env in ENV_NAMES.items()
        if environ.get(env, "").strip() != ""
    }
    try:
        return msgspec.convert(raw, Settings, strict=False, dec_hook=_path)
    except msgspec.ValidationError as error:
        match = _FIELD_IN_ERROR.search(str(error))
        name = ENV_NAMES.get(match.group(1), "?") if match else "?"
        value = raw.get(match.group(1), "") if match else ""
        reason = str(error).split(" - at ")[0]
        raise SettingsError(f"{name}={value!r} is invalid: {reason}") from None
