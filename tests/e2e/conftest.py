"""The real service, started as `chatconnect serve` on its embedded defaults."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

ADMIN_TOKEN = "e2e-admin-token"
MAX_UPLOAD_BYTES = 200_000
BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Service:
    def __init__(self, data_dir: Path, **extra_env: str) -> None:
        self.data_dir = data_dir
        self.extra_env = extra_env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = data_dir / "service.log"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DATABASE_URL", "QDRANT_URL", "REDIS_URL")
        }
        env.update(
            PORT=str(self.port),
            DATA_DIR=str(self.data_dir),
            ADMIN_TOKEN=ADMIN_TOKEN,
            MAX_UPLOAD_BYTES=str(MAX_UPLOAD_BYTES),
            LOG_FORMAT="json",
            **self.extra_env,
        )
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(
                [str(BIN / "chatconnect"), "serve"], env=env, stdout=log, stderr=log
            )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"service exited early:\n{self.log.read_text()[-4000:]}")
            try:
                if httpx.get(self.url + "/health/ready", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"service not ready in 90 s:\n{self.log.read_text()[-4000:]}")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def log_events(self, event: str | None = None) -> list[dict[str, Any]]:
        """The service's JSON log lines so far (of one event, if given)."""
        found = []
        for line in self.log.read_text(errors="replace").splitlines():
            if line.startswith("{"):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if event is None or record.get("event") == event:
                    found.append(record)
        return found

    @property
    def database_url(self) -> str:
        """The embedded PostgreSQL listens on a unix socket in its data directory."""
        return f"postgresql://postgres:@/postgres?host={self.data_dir / 'postgres'}"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = Service(tmp_path_factory.mktemp("service"))
    running.start()
    yield running
    running.stop()


@pytest.fixture
def owner() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
