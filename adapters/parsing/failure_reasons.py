"""Library exceptions into reasons a site owner can act on.

reason_for runs in the parser's child process, where the libraries are imported. The owner
sees the reason on the document's status, so it names the problem and, where there is
one, the fix; the library's own message (often a parser's internals) is logged instead.
"""

from __future__ import annotations

import zipfile

from adapters.parsing import content_types as ct


def memory_reason(content_type: str, max_memory_mb: int | None) -> str:
    """Worded by the service from the child's exit code (the child ends itself when out
    of memory), so this function must not import what only the child has."""
    limit = f" ({max_memory_mb} MB)" if max_memory_mb else ""
    what = ct.label(content_type)
    return f"the {what} needs more memory to parse than this service allows{limit}"


def reason_for(error: BaseException, content_type: str) -> str:
    from docx.opc.exceptions import PackageNotFoundError as DocxPackageError
    from lxml.etree import XMLSyntaxError
    from openpyxl.utils.exceptions import InvalidFileException
    from pandas.errors import EmptyDataError, ParserError
    from pdfminer.pdfdocument import PDFEncryptionError
    from pdfminer.psexceptions import PSException
    from pptx.exc import PackageNotFoundError as PptxPackageError
    from pypdf.errors import FileNotDecryptedError, PyPdfError
    from unstructured.errors import UnprocessableEntityError

    what = ct.label(content_type)
    if isinstance(error, PDFEncryptionError | FileNotDecryptedError):
        return "the PDF is password-protected or forbids text extraction; upload it unlocked"
    if isinstance(error, PSException | PyPdfError):
        return "the PDF is damaged or truncated and cannot be read"
    if isinstance(error, UnprocessableEntityError) and "password" in str(error).lower():
        return f"the {what} is password-protected; upload it without a password"
    invalid = (
        zipfile.BadZipFile,
        DocxPackageError,
        PptxPackageError,
        InvalidFileException,
        UnprocessableEntityError,  # unstructured's word for "not a valid XLSX"
    )
    if isinstance(error, invalid):
        return f"the file is not a valid {what}: it is damaged or of another type"
    if isinstance(error, KeyError) and content_type in ct.OFFICE:
        return f"the {what} lacks a part every such file has: it is damaged or of another type"
    if isinstance(error, XMLSyntaxError):
        return f"the {what} contains malformed XML and cannot be read"
    if isinstance(error, EmptyDataError | ParserError):
        return "the CSV table cannot be read: its rows do not line up into columns"
    if isinstance(error, UnicodeError):
        return "the text's character encoding cannot be read; save it as UTF-8"
    return f"the {what} could not be read ({type(error).__name__})"
