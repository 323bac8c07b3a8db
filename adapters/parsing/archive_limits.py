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

from adapters.parsing.inflation import InflationBudget
from domain.errors import ParseError


def check_archive(content: bytes, *, max_unzipped_mb: int, max_ratio: int) -> None:
    """ParseError when the archive declares more than `max_unzipped_mb` in total, or its
    parts, every one counted whatever its size, inflate past `max_ratio` times their
    compressed size by more than a small allowance (see InflationBudget)."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            parts = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as error:
        raise ParseError("the file is damaged: its ZIP structure cannot be read") from error
    budget = InflationBudget(max_total_mb=max_unzipped_mb, max_ratio=max_ratio)
    for part in parts:
        budget.add(part.filename, compressed=part.compress_size, inflated=part.file_size)
    if budget.over_total:
        raise ParseError(
            f"the document expands to more than {max_unzipped_mb} MB when unzipped "
            f"({budget.total_mb} MB declared), over this service's limit"
        )
    if budget.over_ratio:
        raise ParseError(f"the document {budget.bomb_description()}: it looks like a zip bomb")
