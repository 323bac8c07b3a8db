"""What a document really is, judged by its bytes rather than by the type it came with.

Browsers and servers label files by their extension, or not at all; a wrong label would
send the bytes to the wrong partitioner and fail deep inside it with a useless message, so
the content decides, and a label that contradicts it is refused up front (HTTP 415).
"""

from __future__ import annotations

import io
import re
import zipfile

from adapters.parsing import content_types as ct
from domain.errors import UnsupportedMediaTypeError

_SAMPLE = 8192
_PDF = b"%PDF-"
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # a local file header; an empty archive
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy .doc/.xls/.ppt and encrypted Office files
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_RTF = b"{\\rtf"  # text, but markup that would be indexed as such
# Binary formats worth naming in the refusal, so the owner knows what they sent; checked
# only on content that is not text, since a text file may start with "MZ" too.
_KNOWN_UNSUPPORTED = {
    b"\x89PNG": ("image/png", "a PNG image"),
    b"\xff\xd8\xff": ("image/jpeg", "a JPEG image"),
    b"GIF8": ("image/gif", "a GIF image"),
    b"RIFF": ("application/x-riff", "a RIFF file (image, audio or video)"),
    b"\x1f\x8b": ("application/gzip", "a gzip archive"),
    b"Rar!": ("application/vnd.rar", "a RAR archive"),
    b"7z\xbc\xaf": ("application/x-7z-compressed", "a 7-Zip archive"),
    b"\x7fELF": ("application/x-executable", "a program"),
    b"MZ": ("application/x-msdownload", "a Windows program"),
}
_OFFICE_FOLDERS = {"word/": ct.DOCX, "ppt/": ct.PPTX, "xl/": ct.XLSX}
_HTML_START = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)[\s>]", re.I | re.S
)
_HTML_TAG = re.compile(rb"<(head|body|title|div|p|h[1-6]|article|main|section|table)[\s>]", re.I)
_MARKDOWN_HEADING = re.compile(rb"^#{1,6}[ \t]+\S", re.M)
# C0 controls that never appear in text (tab, newlines, form feed and escape do).
_CONTROL = frozenset(range(0x20)) - frozenset(b"\t\n\r\x0b\x0c\x1b") | {0x7F}

SUPPORTED_NAMES = (
    "PDF, Word (.docx), PowerPoint (.pptx), Excel (.xlsx), HTML, Markdown, CSV or plain text"
)


def _refuse(message: str, declared: str, detected: str | None = None) -> UnsupportedMediaTypeError:
    details = {"declared": declared} | ({"detected": detected} if detected else {})
    return UnsupportedMediaTypeError(message, details=details)


def _office_type(content: bytes) -> str | None:
    """DOCX, PPTX or XLSX by the folder inside; None for another or a damaged archive."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = archive.namelist()  # the central directory only: nothing is inflated
    except (zipfile.BadZipFile, ValueError, OSError):
        return None
    for folder, content_type in _OFFICE_FOLDERS.items():
        if any(name.startswith(folder) for name in names):
            return content_type
    return None


def is_text(sample: bytes) -> bool:
    if sample.startswith(_UTF16_BOMS):
        return True  # its NUL bytes are half of every ASCII character
    if b"\x00" in sample:
        return False
    try:
        sample.decode("utf-8")
        return True
    except UnicodeDecodeError as error:
        if error.start >= len(sample) - 3 and len(sample) == _SAMPLE:
            return True  # the sample ends inside a multi-byte character
    # Not UTF-8: a legacy 8-bit encoding has letters above 0x7F but almost no C0 controls.
    controls = sum(1 for byte in sample if byte in _CONTROL)
    return controls <= len(sample) // 100


def _text_type(sample: bytes) -> str:
    if _HTML_START.match(sample) or (sample.lstrip()[:1] == b"<" and _HTML_TAG.search(sample)):
        return ct.HTML
    if _MARKDOWN_HEADING.search(sample):
        return ct.MARKDOWN
    return ct.PLAIN


def _binary_type(content: bytes, declared: str) -> str | None:
    """The supported binary type the bytes carry; None when they carry no signature."""
    header = content[:1024].find(_PDF)
    # Readers accept junk before the header (within the first KB); a text that merely
    # mentions "%PDF-" near its start is still text.
    prefix = content[:header]
    if header >= 0 and (not prefix.strip() or not is_text(prefix)):
        return ct.PDF
    if content.startswith(_ZIP):
        office = _office_type(content)
        if office:
            return office
        if declared in ct.OFFICE:
            return declared  # an archive too damaged to list: the parser says what is wrong
        raise _refuse(
            "the file is a ZIP archive but not a Word, PowerPoint or Excel document",
            declared,
            "application/zip",
        )
    if content.startswith(_OLE):
        raise _refuse(
            "legacy Office files (.doc, .xls, .ppt) and password-protected Office files are "
            "not supported; save it as .docx, .xlsx or .pptx without a password",
            declared,
            "application/x-ole-storage",
        )
    if content.startswith(_RTF):
        raise _refuse(
            f"the file is an RTF document; supported are {SUPPORTED_NAMES}",
            declared,
            "application/rtf",
        )
    return None


def _unsupported_binary(content: bytes, declared: str) -> UnsupportedMediaTypeError:
    for magic, (mime, name) in _KNOWN_UNSUPPORTED.items():
        if content.startswith(magic):
            return _refuse(f"the file is {name}; supported are {SUPPORTED_NAMES}", declared, mime)
    return _refuse(f"the file is of no supported type; supported are {SUPPORTED_NAMES}", declared)


def identify(content: bytes, declared: str) -> str:
    """The content type to parse `content` as; UnsupportedMediaTypeError when its content
    is of no supported type or contradicts `declared`."""
    wanted = ct.normalize(declared)
    vague = wanted in ct.GENERIC
    binary = _binary_type(content, wanted)
    if binary is not None:
        if vague or wanted == binary or (wanted in ct.ZIP_CONTAINERS and binary in ct.OFFICE):
            return binary
        raise _refuse(
            f"the file is {ct.a_label(binary)}, but it was sent as {ct.a_label(wanted)}",
            declared,
            binary,
        )
    sample = content[:_SAMPLE]
    if not is_text(sample):
        if wanted in ct.TEXT or wanted.startswith("text/"):
            raise _refuse(f"the file was sent as {ct.a_label(wanted)} but is binary", declared)
        raise _unsupported_binary(content, declared)
    if wanted in ct.BINARY:
        raise _refuse(f"the file was sent as {ct.a_label(wanted)} but is text", declared, "text")
    sniffed = _text_type(sample)
    if wanted in (ct.MARKDOWN, ct.HTML, ct.CSV):
        return wanted  # the sender's word on how to read text is better than a guess
    if wanted == ct.PLAIN:
        return ct.HTML if sniffed == ct.HTML else ct.PLAIN  # servers label pages text/plain
    if vague or wanted.startswith("text/"):
        return sniffed
    raise _refuse(
        f"content type {declared!r} is not supported; supported are {SUPPORTED_NAMES}", declared
    )
