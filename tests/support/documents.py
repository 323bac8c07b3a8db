"""Archives made in memory for tests that need damaged or inflating Office files; real
documents of every type come from adapters/parsing/sample_documents.py, which the
parser's child uses too."""

from __future__ import annotations

import io
import zipfile


def zip_bytes(parts: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def with_zero_part(office: bytes, name: str, megabytes: int) -> bytes:
    """The Office file plus one part of zeros, streamed: it deflates ~1000 to 1."""
    buffer = io.BytesIO(office)
    with (
        zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w", force_zip64=True) as part,
    ):
        for _ in range(megabytes):
            part.write(bytes(1024 * 1024))
    return buffer.getvalue()
