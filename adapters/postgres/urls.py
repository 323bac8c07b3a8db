"""One database URL, spelled for each client that needs it.

Accepted forms: `postgresql://user:pw@host:port/db`, `postgres://...`,
`postgresql+asyncpg://...`, and pgserver's unix-socket URI
`postgresql://postgres:@/postgres?host=/path/to/socket/dir`.
"""

from __future__ import annotations

_SCHEMES = ("postgresql+asyncpg://", "postgresql://", "postgres://")


def _without_scheme(url: str) -> str:
    for scheme in _SCHEMES:
        if url.startswith(scheme):
            return url.removeprefix(scheme)
    raise ValueError(f"not a PostgreSQL URL: {url.split('://', 1)[0]}://…")


def asyncpg_dsn(url: str) -> str:
    return "postgresql://" + _without_scheme(url)


def sqlalchemy_url(url: str) -> str:
    # SQLAlchemy's asyncpg dialect reads `?host=/dir` as the socket directory, so the
    # pgserver URI needs nothing more than the driver in its scheme.
    return "postgresql+asyncpg://" + _without_scheme(url)
