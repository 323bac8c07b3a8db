"""The embedded PostgreSQL after its user was killed: the next run adopts it and stops it."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.integration

HOLD = """
import sys, time
from pathlib import Path
from adapters.postgres.embedded import start_embedded_postgres
start_embedded_postgres(Path(sys.argv[1]))
print("started", flush=True)
time.sleep(600)
"""
RUN_AND_STOP = """
import sys
from pathlib import Path
from adapters.postgres.embedded import start_embedded_postgres, stop_embedded_postgres
start_embedded_postgres(Path(sys.argv[1]))
stop_embedded_postgres(Path(sys.argv[1]))
"""


def _postmaster(data_dir: Path) -> psutil.Process | None:
    pid_file = data_dir / "postgres" / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().split()[0])
    return psutil.Process(pid) if psutil.pid_exists(pid) else None


def test_a_server_left_by_a_killed_user_is_stopped_by_the_next_one(tmp_path: Path) -> None:
    held = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert held.stdout is not None and held.stdout.readline().strip() == "started"
        left = _postmaster(tmp_path)
        assert left is not None and left.is_running()
    finally:
        held.send_signal(signal.SIGKILL)
        held.wait(10)
    users = json.loads((tmp_path / "postgres" / ".handle_pids.json").read_text())
    assert held.pid in users  # killed, it never let go
    assert left.is_running()  # and the server outlived it

    try:
        subprocess.run([sys.executable, "-c", RUN_AND_STOP, str(tmp_path)], check=True, timeout=120)

        deadline = time.monotonic() + 20
        while left.is_running() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not left.is_running(), "the restarted user adopted the server but left it running"
        assert json.loads((tmp_path / "postgres" / ".handle_pids.json").read_text()) == []
    finally:
        if left.is_running():  # not to outlive the test when it fails
            left.terminate()
