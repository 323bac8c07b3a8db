"""The content types the document parsers know, by their canonical names."""

from __future__ import annotations

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PPTX = "application/vnd.openxmlformats-officedocument.presentationml.presentation"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
HTML = "text/html"
MARKDOWN = "text/markdown"
PLAIN = "text/plain"
CSV = "text/csv"

# Office Open XML: ZIP archives whose first folder names the application.
OFFICE = frozenset({DOCX, PPTX, XLSX})
BINARY = frozenset({PDF}) | OFFICE
TEXT = frozenset({PLAIN, MARKDOWN, HTML, CSV})

# Declared by browsers and servers that do not know better; the content decides.
GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream", "application/unknown"})
# A ZIP is what an Office file is, so calling one a ZIP is vague rather than wrong.
ZIP_CONTAINERS = frozenset({"application/zip", "application/x-zip-compressed"})

_ALIASES = {
    "text/x-markdown": MARKDOWN,
    "text/md": MARKDOWN,
    "application/xhtml+xml": HTML,
    "application/csv": CSV,
    "text/comma-separated-values": CSV,
    "application/x-pdf": PDF,
}

LABELS = {
    PDF: "PDF",
    DOCX: "Word document (.docx)",
    PPTX: "PowerPoint presentation (.pptx)",
    XLSX: "Excel workbook (.xlsx)",
    HTML: "HTML page",
    MARKDOWN: "Markdown file",
    PLAIN: "text file",
    CSV: "CSV file",
}


def normalize(content_type: str) -> str:
    """'Text/HTML; charset=utf-8' → 'text/html'; known aliases → their canonical name."""
    bare = content_type.split(";", 1)[0].strip().lower()
    return _ALIASES.get(bare, bare)


def label(content_type: str) -> str:
    return LABELS.get(content_type, repr(content_type))


def a_label(content_type: str) -> str:
    """'a PDF', 'an Excel workbook (.xlsx)', 'an HTML page'; an unknown type bare."""
    if content_type not in LABELS:
        return label(content_type)
    name = LABELS[content_type]
    return f"{'an' if name[0] in 'AEIOU' or name.startswith('HTML') else 'a'} {name}"
