"""Every file type the service takes, uploaded as an owner would: ready, cited with its
title, section and page; and the files that must not get in, refused or failed clearly
while the worker goes on."""

from __future__ import annotations

import io
from collections.abc import Iterator

import docx
import httpx
import pytest

from adapters.parsing.sample_documents import pdf_bytes, pptx_bytes, xlsx_bytes
from tests.e2e.conftest import MAX_UPLOAD_BYTES, Service
from tests.e2e.test_service import _ask, _until_done, _until_ready, _widget
from tests.support.documents import with_zero_part

pytestmark = pytest.mark.e2e

UPLOAD = "/api/widget/process-document"


def manual_pdf() -> bytes:
    return pdf_bytes(
        [
            [
                (20, 700, "Installation Guide"),
                (11, 670, "Paste the script tag into every page where the widget should load."),
            ],
            [
                (16, 700, "Troubleshooting"),
                (11, 670, "If the widget does not appear, add your domain to its allowed origins."),
            ],
        ]
    )


def warranty_docx() -> bytes:
    document = docx.Document()
    document.add_heading("Warranty", level=1)
    document.add_heading("Kettles", level=2)
    document.add_paragraph("Every kettle carries a two-year warranty from the date of purchase.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


FILES: dict[str, bytes] = {
    "manual.pdf": manual_pdf(),
    "warranty.docx": warranty_docx(),
    "results.pptx": pptx_bytes(),
    "prices.xlsx": xlsx_bytes(),
    "shipping.html": b"<html><head><title>Shipping</title></head><body><h1>Shipping</h1>"
    b"<p>Express shipping to Lisbon takes two days.</p><script>track()</script></body></html>",
    "returns.md": b"# Returns\n\n## Time limit\n\nReturn any item within 30 days of delivery.\n",
    "hours.txt": b"Opening hours\n\nThe Porto store opens at nine in the morning on weekdays.\n",
    "stores.csv": b"city,manager\nPorto,Ana Sousa\nGhent,Pieter Claes\n",
}

TITLES = {"shipping.html": "Shipping"}
# question → (file that must be the first source, its section, its page)
QUESTIONS: dict[str, tuple[str, str | None, int | None]] = {
    # A PDF's titles rank by their size: the 16-point one sits under the 20-point one.
    "The widget does not appear, what should I check?": (
        "manual.pdf",
        "Installation Guide › Troubleshooting",
        2,
    ),
    "How long is the kettle warranty?": ("warranty.docx", "Warranty › Kettles", None),
    "How much did revenue grow in the third quarter?": ("results.pptx", None, 1),
    "How long does express shipping to Lisbon take?": ("shipping.html", "Shipping", None),
    "How many days do I have to return an item?": ("returns.md", "Returns › Time limit", None),
    "When does the Porto store open?": ("hours.txt", None, None),
    "Who manages the Ghent store?": ("stores.csv", None, None),
}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Service]:
    running = Service(tmp_path_factory.mktemp("types"), PARSE_MAX_UNZIPPED_MB="5")
    running.start()
    yield running
    running.stop()


async def _post(client: httpx.AsyncClient, owner: dict[str, str], widget: str, name: str,
                content: bytes) -> httpx.Response:  # fmt: skip
    files = {"file": (name, content, "application/octet-stream")}
    return await client.post(UPLOAD, data={"widget_id": widget}, files=files, headers=owner)


async def test_every_type_becomes_ready_and_is_cited_with_title_section_and_page(
    service: Service, owner: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
        widget = await _widget(client, owner)
        ids = {}
        for name, content in FILES.items():
            response = await _post(client, owner, widget["id"], name, content)
            assert response.status_code == 202, (name, response.text)
            ids[name] = response.json()["document_id"]
        for name, document in ids.items():
            ready = await _until_ready(client, owner, document)
            assert ready["chunk_count"] >= 1, name
        names = {document: name for name, document in ids.items()}

        for question, (name, section, page) in QUESTIONS.items():
            answer = await _ask(client, widget["public_key"], question)
            assert answer["sources"], question
            top = answer["sources"][0]
            assert names[top["document_id"]] == name, (question, answer["sources"])
            # Titled by its name, but an HTML page by its own <title>.
            assert top["title"] == (TITLES.get(name) or name)
            if section is not None:
                assert top["section"] == section, (question, top)
            if page is not None:
                assert top["page"] == page, (question, top)


async def test_bad_files_are_refused_or_fail_with_a_reason_and_the_worker_goes_on(
    service: Service, owner: dict[str, str]
) -> None:
    async with httpx.AsyncClient(base_url=service.url, timeout=60) as client:
        widget = (await _widget(client, owner))["id"]

        refused = {
            "empty.txt": (b"   \n", 422),
            "huge.txt": (b"word " * (MAX_UPLOAD_BYTES // 4), 413),
            "slides.pdf": (pptx_bytes(), 415),  # a PowerPoint file named as a PDF
            "photo.docx": (b"\x89PNG\r\n\x1a\n" + bytes(64), 415),
            "tool.exe": (b"MZ\x90\x00" + bytes(64), 415),
        }
        for name, (content, status) in refused.items():
            response = await _post(client, owner, widget, name, content)
            assert response.status_code == status, (name, response.text)
            assert response.json()["error"]["message"], name

        failing = {
            "broken.pdf": (b"%PDF-1.7\n" + bytes(range(256)) * 8, "PDF"),
            "bomb.docx": (
                with_zero_part(warranty_docx(), "word/media/pad.bin", 6),
                "expands to more than 5 MB",
            ),
            "fence.md": (b"```\n```\n", "no text"),
        }
        outcomes = {}
        for name, (content, _) in failing.items():
            response = await _post(client, owner, widget, name, content)
            assert response.status_code == 202, (name, response.text)
            outcomes[name] = response.json()["document_id"]
        after = await _post(client, owner, widget, "after.md", b"# After\n\nStill working.\n")

        for name, (_, reason) in failing.items():
            status, _ = await _until_done(client, owner, outcomes[name], seconds=120)
            assert status["status"] == "failed", (name, status)
            assert reason in status["error"], (name, status["error"])
            assert "Traceback" not in status["error"]
        finished, _ = await _until_done(client, owner, after.json()["document_id"], seconds=120)
        assert finished["status"] == "ready"
        listed = await client.get(f"/api/widget/documents?widget_id={widget}", headers=owner)
        assert sorted(d["title"] for d in listed.json()["documents"]) == sorted(
            [*failing, "after.md"]
        )
