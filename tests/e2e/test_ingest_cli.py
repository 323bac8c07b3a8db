"""`chatconnect ingest`, run as a process against the real service."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import ADMIN_TOKEN, BIN, MAX_UPLOAD_BYTES, Service

pytestmark = pytest.mark.e2e

OWNER = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _widget(service: Service) -> str:
    response = httpx.post(
        service.url + "/api/widgets",
        json={"tenant_id": "acme", "plan": "free", "name": "Ingest"},
        headers=OWNER,
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def _documents(service: Service, widget_id: str) -> dict[str, dict[str, Any]]:
    response = httpx.get(
        service.url + "/api/widget/documents", params={"widget_id": widget_id}, headers=OWNER
    )
    assert response.status_code == 200, response.text
    return {item["title"]: item for item in response.json()["documents"]}


def _ingest(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    clean = {
        key: value
        for key, value in os.environ.items()
        if key not in ("ADMIN_TOKEN", "PORT", "DATA_DIR", "HOST")
    }
    return subprocess.run(
        [str(BIN / "chatconnect"), "ingest", *args],
        env={**clean, **(env or {})},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _write(folder: Path, files: dict[str, bytes]) -> Path:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    return folder


def test_a_folder_is_uploaded_recursively_and_processed(service: Service, tmp_path: Path) -> None:
    widget_id = _widget(service)
    folder = _write(
        tmp_path / "docs",
        {
            "returns.md": b"# Returns\n\nYou can return any item within 30 days for a refund.\n",
            "hours.txt": b"Opening hours\n\nThe Lisbon store opens at 9am, Monday to Saturday.\n",
            "nested/deep/faq.markdown": b"# FAQ\n\nExpress delivery takes two days.\n",
            ".hidden.md": b"# Hidden\n\nNot to be uploaded.\n",
            ".git/notes.md": b"# Git\n\nNot to be uploaded either.\n",
            "tools/setup.exe": b"MZ\x90\x00\x03",
        },
    )

    run = _ingest(str(folder), "--widget", widget_id, "--url", service.url, "--token", ADMIN_TOKEN)

    assert run.returncode == 0, run.stdout + run.stderr
    assert f"skipped {folder / 'tools' / 'setup.exe'}: .exe is not a type the service takes" in (
        run.stdout
    )
    assert (
        "3 documents: 3 ready, 0 duplicates (already there), 0 failed; "
        "skipped: 1 unsupported, 2 hidden"
    ) in run.stdout
    documents = _documents(service, widget_id)
    assert sorted(documents) == ["faq.markdown", "hours.txt", "returns.md"]
    assert {d["status"] for d in documents.values()} == {"ready"}
    assert all(d["chunk_count"] >= 1 for d in documents.values())

    again = _ingest(
        str(folder / "returns.md"), "--widget", widget_id, "--url", service.url,
        "--token", ADMIN_TOKEN,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout + again.stderr
    assert "1 document: 0 ready, 1 duplicate (already there), 0 failed" in again.stdout
    assert len(_documents(service, widget_id)) == 3


def _routes(service: Service, route: str) -> int:
    return sum(r.get("route") == route for r in service.log_events("request"))


def test_many_files_are_followed_in_one_request_a_round_and_said_a_line_each(
    service: Service, tmp_path: Path
) -> None:
    widget_id = _widget(service)
    pages = {
        f"page{n:02}.md": f"# Page {n}\n\nFact number {n} is worth knowing.\n".encode()
        for n in range(12)
    }
    page = (
        "<html><head><title>Returns &amp; refunds | Shop</title></head><body>"
        "<h1>Returns<a class='headerlink' href='#r'>¶</a></h1>"
        "<p>You can return any item within 30 days of delivery for a full refund.</p>"
        "</body></html>"
    )
    folder = _write(tmp_path / "many", {**pages, "returns.html": page.encode()})
    one_by_one = "/api/widget/documents/{document_id}/status"
    before = (_routes(service, one_by_one), _routes(service, "/api/widget/documents/status"))

    run = _ingest(str(folder), "--widget", widget_id, "--url", service.url, "--token", ADMIN_TOKEN)

    assert run.returncode == 0, run.stdout + run.stderr
    # Not a terminal: a line per file, as each is ready, with its chunks.
    ready = [line for line in run.stdout.splitlines() if line.startswith("ready ")]
    assert len(ready) == 13
    assert f"ready      {folder / 'returns.html'} (1 chunk)" in ready
    # One status request per round for all the documents, never one per document.
    after = (_routes(service, one_by_one), _routes(service, "/api/widget/documents/status"))
    assert after[0] == before[0]
    assert 1 <= after[1] - before[1] <= 30
    documents = _documents(service, widget_id)
    some = next(iter(documents.values()))["document_id"]
    httpx.get(f"{service.url}/api/widget/documents/{some}/status", headers=OWNER)
    assert _routes(service, one_by_one) == after[0] + 1  # the count sees that route
    # The page's own title, not its file name; the heading's permalink glyph is gone.
    assert "Returns & refunds | Shop" in documents
    answer = httpx.post(
        service.url + "/api/widget/chat",
        json={"message": "How long do I have to return an item?", "widget_id": widget_id},
        headers=OWNER,
    ).json()
    assert answer["sources"][0]["title"] == "Returns & refunds | Shop"
    assert answer["sources"][0]["section"] == "Returns"


def test_failed_files_make_the_exit_status_non_zero_and_are_reported_with_their_reason(
    service: Service, tmp_path: Path
) -> None:
    widget_id = _widget(service)
    folder = _write(
        tmp_path / "mixed",
        {
            "fine.md": b"# Warranty\n\nEvery kettle carries a two-year warranty.\n",
            "empty.md": b"  \n\n",  # refused at upload: 422
            "blob.txt": b"\x00\x01\x02 binary, not text",  # refused at upload: 415
            "fence.md": b"```\n```\n",  # accepted, then fails to parse: no text
            "huge.txt": b"word " * (MAX_UPLOAD_BYTES // 4),  # refused at upload: 413
        },
    )

    run = _ingest(
        str(folder), "--widget", widget_id, "--url", service.url, "--token", ADMIN_TOKEN,
        "--concurrency", "2",
    )  # fmt: skip

    assert run.returncode == 1, run.stdout + run.stderr
    assert "5 documents: 1 ready, 0 duplicates (already there), 4 failed" in run.stdout
    failed = run.stdout.split("failed:\n", 1)[1]
    assert f"  {folder / 'empty.md'}: document is empty (422)\n" in failed
    assert re.search(rf"  {re.escape(str(folder / 'huge.txt'))}: .* \(413\)\n", failed)
    blob = re.escape(str(folder / "blob.txt"))
    assert re.search(rf"  {blob}: .*as a text file but.* \(415\)", failed)
    documents = _documents(service, widget_id)
    assert documents["fine.md"]["status"] == "ready"
    assert documents["fence.md"]["status"] == "failed"
    assert f"  {folder / 'fence.md'}: {documents['fence.md']['error']}\n" in failed
    assert sorted(documents) == ["fence.md", "fine.md"]


def test_defaults_come_from_port_and_the_data_directory_and_no_wait_returns_at_once(
    service: Service, tmp_path: Path
) -> None:
    widget_id = _widget(service)
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "admin_token").write_text(ADMIN_TOKEN + "\n")
    folder = _write(tmp_path / "one", {"gift.txt": b"Gift cards never expire.\n"})

    run = _ingest(
        str(folder), "--widget", widget_id, "--no-wait",
        env={"PORT": str(service.port), "DATA_DIR": str(data_dir)},
    )  # fmt: skip

    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 document: 1 queued, 0 duplicates (already there), 0 failed" in run.stdout
    assert "gift.txt" in _documents(service, widget_id)


def test_a_refused_token_or_unknown_widget_stops_before_any_upload(
    service: Service, tmp_path: Path
) -> None:
    widget_id = _widget(service)
    folder = _write(tmp_path / "docs", {"a.md": b"# A\n\nSomething to say.\n"})

    bad_token = _ingest(str(folder), "--widget", widget_id, "--url", service.url, "--token", "no")
    assert bad_token.returncode == 2
    assert "the service refused the admin token" in bad_token.stderr

    unknown = "00000000-0000-4000-8000-000000000000"
    no_widget = _ingest(
        str(folder), "--widget", unknown, "--url", service.url, "--token", ADMIN_TOKEN
    )
    assert no_widget.returncode == 2
    assert f"widget {unknown} not found" in no_widget.stderr
    assert _documents(service, widget_id) == {}


def test_nothing_to_upload_and_missing_paths_are_said(service: Service, tmp_path: Path) -> None:
    folder = _write(tmp_path / "bin", {"tool.exe": b"MZ"})

    run = _ingest(
        str(folder), str(tmp_path / "absent"), "--widget", _widget(service),
        "--url", service.url, "--token", ADMIN_TOKEN,
    )  # fmt: skip

    assert run.returncode == 1
    assert f"skipped {tmp_path / 'absent'}: no such file or folder" in run.stdout
    assert "no documents to upload" in run.stdout
