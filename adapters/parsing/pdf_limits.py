"""Refusing PDFs whose streams would inflate to far more than they weigh (flate bombs).

A content stream is deflated, and pdfminer inflates it whole and then lays out every
character it draws: a 3 MB page whose stream inflates to 1 GB took a parser to 7.5 GB.
A PDF declares no inflated sizes, so each Flate stream is inflated here a few MB at a
time, its output counted and dropped, and the counting stops as soon as the file is over
the limits of adapters/parsing/inflation.py. Images are left out: the `fast` strategy
never decodes them. Runs in the parser's child process, under its memory cap.
"""

from __future__ import annotations

import io
import zlib
from collections.abc import Iterator
from typing import Any

from adapters.parsing.inflation import InflationBudget

_STEP = 4 * 1024 * 1024


def _inflated_size(data: bytes, limit: int) -> int:
    """What `data` inflates to, counted up to just past `limit`; a stream that turns out
    damaged counts what came before the damage, as pdfminer reads it."""
    inflater = zlib.decompressobj()
    size = 0
    pending = data
    try:
        while not inflater.eof and size <= limit:
            chunk = inflater.decompress(pending, _STEP)
            pending = inflater.unconsumed_tail
            if not chunk and not pending:
                break
            size += len(chunk)
    except zlib.error:
        pass
    return size


def _objects_outside_object_streams(document: Any) -> Iterator[int]:
    # A stream is never stored inside an object stream, and reading objects that are
    # would make pdfminer inflate their object stream before it was counted.
    seen: set[int] = set()
    for xref in document.xrefs:
        for objid in xref.get_objids():
            if objid in seen:
                continue
            seen.add(objid)
            try:
                in_stream = xref.get_pos(objid)[0] is not None
            except KeyError:
                continue
            if not in_stream:
                yield objid


def bomb_reason(content: bytes, *, max_inflated_mb: int, max_ratio: int) -> str | None:
    """Why the PDF is refused, or None when its streams stay within the limits or its
    structure cannot be read here (the parse then says what is wrong with it)."""
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfparser import PDFParser
    from pdfminer.pdftypes import LITERALS_FLATE_DECODE, PDFStream, resolve1
    from pdfminer.psparser import LIT

    image = LIT("Image")
    try:
        document = PDFDocument(PDFParser(io.BytesIO(content)))
    except MemoryError:
        raise
    except Exception:
        return None
    budget = InflationBudget(max_total_mb=max_inflated_mb, max_ratio=max_ratio)
    for objid in _objects_outside_object_streams(document):
        try:
            stream = document.getobj(objid)
            if not isinstance(stream, PDFStream) or stream.rawdata is None:
                continue
            if resolve1(stream.get("Subtype")) is image:
                continue
            filters = stream.get_filters()
            if not filters or filters[0][0] not in LITERALS_FLATE_DECODE:
                continue
            data = stream.rawdata
            if stream.decipher and stream.objid is not None and stream.genno is not None:
                data = stream.decipher(stream.objid, stream.genno, data, stream.attrs)
        except MemoryError:
            raise
        except Exception:
            continue  # an object pdfminer cannot read is not inflated by it either
        inflated = _inflated_size(data, budget.room(len(data)))
        budget.add(f"object {objid}", compressed=len(data), inflated=inflated)
        if budget.over_total:
            return (
                f"the PDF's content expands to more than {max_inflated_mb} MB when "
                "inflated, over this service's limit"
            )
        if budget.over_ratio:
            return f"the PDF {budget.bomb_description('stream')}: it looks like a flate bomb"
    return None
