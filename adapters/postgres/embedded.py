"""PostgreSQL 16 from the pgserver wheel, for running with no database server."""

from __future__ import annotations

import warnings
from pathlib import Path

with warnings.catch_warnings():
    # pgserver asks platformdirs for a runtime directory at import; with no
    # XDG_RUNTIME_DIR (containers, CI) that warns, then falls back to /tmp, which is fine.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import pgserver
    from pgserver.postgres_server import PostgresServer
    from pgserver.utils import DiskList, process_is_running

# Where pgserver lists the processes using a server: the last to let go stops it.
USERS_FILE = ".handle_pids.json"


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or, in this process, reuse) the server under data_dir; returns its socket URI.

    The server listens on a unix socket only. It stops when the last process using it
    exits (pgserver counts the processes that asked for it).
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    pgdata = (data_dir / "postgres").resolve()
    if pgdata.exists():
        forget_dead_users(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return server.get_uri()


def forget_dead_users(pgdata: Path) -> list[int]:
    """Strikes off the processes that used the server and died without letting go (kill -9
    runs no exit handler): otherwise the server, still running, is reused by the next run
    but never stopped, since a dead user is always left. Returns the users still alive."""
    users = DiskList(pgdata / USERS_FILE)
    with PostgresServer._lock:
        alive = [pid for pid in users.get() if process_is_running(pid)]
        users.put(alive)
    return alive


def stop_embedded_postgres(data_dir: Path) -> None:
    """Stop it now rather than at exit, when this is the last process using it."""
    pgserver.get_server(data_dir / "postgres").cleanup()
