"""`chatconnect serve` runs its worker on uvloop, on which the event loop's thread spends a
few to ten per cent less CPU per chat than on asyncio's own loop (docs/benchmarks.md,
issue 19, round 3)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, ClassVar

import pytest
from granian._loops import loops
from granian.constants import Loops

from entrypoints import cli
from entrypoints.settings import Settings


class _Granian:
    options: ClassVar[dict[str, Any]] = {}

    def __init__(self, target: str, **options: Any) -> None:
        _Granian.options = options

    def serve(self) -> None:
        pass


def test_the_served_worker_runs_on_uvloop(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr("granian.Granian", _Granian)
    cli._serve(Settings(data_dir=tmp_path, admin_token="t"))
    chosen = _Granian.options["loop"]
    assert chosen == Loops.uvloop
    loop = loops.get(chosen.value)  # what granian builds for its worker from that name
    try:
        assert type(loop).__module__.startswith("uvloop")
        assert isinstance(loop, asyncio.AbstractEventLoop)
    finally:
        loop.close()
