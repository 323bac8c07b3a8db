"""PostgreSQL 16 from the pgserver wheel, for running with no database server."""

from __future__ import annotations

import warnings
from pathlib import Path

with warnings.catch_warnings():
    # pgserver asks platformdirs for a runtime directory at import; with no
    # XDG_RUNTIME_DIR (containers, CI) that warns, then falls back to /tmp, which is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or, in this process, reuse) the server under data_dir; returns its socket URI.

    The server listens on a unix socket only. It stops when the last process using it
    exits (pgserver counts the processes that asked for it).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir / "postgres", cleanup_mode="stop")
    return server.get_uri()


def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop it now rather than at exit, when this is the last process using it."""
    pgserver.get_server(data_dir / "postgres").cleanup()
