"""A document's title: the one its owner gave, else the one inside it, else its file name."""

from __future__ import annotations

import html
import re

from domain.models import without_nul

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
# A page's <title> sits in its head: the first 64 KB hold it, or nothing does.
TITLE_SCAN_BYTES = 64 * 1024
MAX_TITLE_CHARS = 300
_TITLE = re.compile(rb"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([\w-]+)", re.IGNORECASE)


def html_title(content: bytes) -> str | None:
    """The page's <title>, unescaped and on one line; None when it has none."""
    head = content[:TITLE_SCAN_BYTES]
    found = _TITLE.search(head)
    if not found:
        return None
    declared = _CHARSET.search(head)
    encoding = declared.group(1).decode("ascii") if declared else "utf-8"
    try:
        text = found.group(1).decode(encoding, errors="replace")
    except LookupError:  # a charset Python does not know
        text = found.group(1).decode("utf-8", errors="replace")
    return _one_line(html.unescape(text)) or None


def title_of(given: str, content: bytes, content_type: str, filename: str | None) -> str:
    if given.strip():
        return given.strip()
    if content_type in HTML_TYPES and (found := html_title(content)):
        return found
    return _one_line(filename or "") or "Untitled"


def _one_line(text: str) -> str:
    """A title as a list shows it: on one line, of a bounded length, without NULs (which
    nobody typed and PostgreSQL cannot keep)."""
    return " ".join(without_nul(text).split())[:MAX_TITLE_CHARS]
