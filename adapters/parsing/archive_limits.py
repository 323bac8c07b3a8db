"""Refusing Office files that would inflate to far more than they weigh (zip bombs).

DOCX, PPTX and XLSX are ZIP archives; the partitioners inflate their XML parts whole, so
a few hundred KB of crafted ZIP can ask for gigabytes. The central directory declares
every part's inflated size, and reading it inflates nothing. The declared sizes can be
trusted as an upper bound: Python's zipfile stops a part at its declared size (and then
fails its CRC check), so a part that lies about its size cannot inflate past it.
"""

from __future__ import annotations

import io
import zipfile

from domain.errors import ParseError

_MB = 1024 * 1024
# Small parts compress absurdly well without being a threat (a blank sheet's XML).
_RATIO_FLOOR_BYTES = _MB


def check_archive(content: bytes, *, max_unzipped_mb: int, max_ratio: int) -> None:
    """ParseError when the archive declares more than `max_unzipped_mb` in total, or a
    part of at least 1 MB inflates more than `max_ratio` times its compressed size."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ParseError("the file is damaged: its ZIP structure cannot be read") from error
    total = sum(part.file_size for part in parts)
    if total > max_unzipped_mb * _MB:
        raise ParseError(
            f"the document expands to more than {max_unzipped_mb} MB when unzipped "
            f"({total // _MB} MB declared), over this service's limit"
        )
    for part in parts:
        if part.file_size < _RATIO_FLOOR_BYTES:
            continue
        ratio = part.file_size / max(part.compress_size, 1)
        if ratio > max_ratio:
            raise ParseError(
                f"the document expands to more than {part.file_size // _MB} MB from "
                f"{max(part.compress_size // 1024, 1)} KB ({part.filename!r} inflates "
                f"{ratio:.0f} times, the limit is {max_ratio}): it looks like a zip bomb"
            )
