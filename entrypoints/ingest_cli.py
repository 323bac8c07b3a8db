"""`chatconnect ingest PATH... --widget ID`: feed a running service a folder of documents.

It speaks to the service over HTTP only, as any owner would: no settings are loaded and
nothing of the service's own machinery (database, container) is imported. Files are
uploaded a few at a time while the documents uploaded so far are followed until each is
ready or failed: one status request for all of them per round, rounds spaced out while
nothing moves. Progress is shown in chunks on a terminal; when the output is not one
(a log, a pipe), a line per file says how it ended. A summary then says which failed
and why.
"""

from __future__ import annotations

import argparse
import asyncio
import mimetypes
import os
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from adapters.fetching.failures import in_words
from domain.models.documents import DOCUMENT_EXTENSIONS

if TYPE_CHECKING:
    import httpx
    from tqdm import tqdm

# What the service takes; anything else is skipped with a message.
EXTENSIONS = DOCUMENT_EXTENSIONS
DONE = frozenset({"ready", "failed"})
UPLOAD_ATTEMPTS = 3
# Ids per status request: the service takes up to 1,000.
STATUS_BATCH = 1000


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "paths",
        metavar="PATH",
        nargs="+",
        type=Path,
        help="files or folders (folders are walked; hidden files and folders are skipped)",
    )
    parser.add_argument(
        "--widget", required=True, type=_widget_id, metavar="ID", help="the widget to feed"
    )
    parser.add_argument(
        "--url",
        default=None,
        help="the service's address (default: http://localhost:$PORT, PORT defaulting to 8000)",
    )
    parser.add_argument(
        "--token",
        default=None,
        help="the admin token (default: $ADMIN_TOKEN, else the file $DATA_DIR/admin_token)",
    )
    parser.add_argument(
        "--no-wait",
        dest="wait",
        action="store_false",
        help="return once uploaded, without waiting for the documents to be processed",
    )
    parser.add_argument(
        "--concurrency",
        type=_positive,
        default=4,
        metavar="N",
        help="uploads (and status requests) in flight at once (default: 4)",
    )
    parser.add_argument(
        "--stall-timeout",
        type=_positive,
        default=300,
        metavar="SECONDS",
        help="stop waiting when no document has moved on for this long (default: 300)",
    )


def main(args: argparse.Namespace) -> int:
    """Runs `chatconnect ingest`; returns the exit status: 0 when every document was
    taken, 1 when any failed, was missing or is still unfinished, 2 when nothing could
    be done (service unreachable, token refused, unknown widget)."""
    found = find_documents(args.paths)
    for path in found.unsupported:
        print(f"skipped {path}: {path.suffix or 'no extension'} is not a type the service takes")
    for path in found.missing:
        print(f"skipped {path}: no such file or folder")
    if not found.files:
        print(f"no documents to upload (the service takes {' '.join(EXTENSIONS)})")
        return 1
    token = args.token or default_token()
    if not token:
        print(
            "chatconnect ingest: no admin token: pass --token, set ADMIN_TOKEN, or run where "
            "the service keeps data/admin_token (or set DATA_DIR)",
            file=sys.stderr,
        )
        return 2
    url = args.url or f"http://localhost:{os.environ.get('PORT', '').strip() or 8000}"
    try:
        report = asyncio.run(
            Ingestion(
                url=url,
                token=token,
                widget_id=args.widget,
                concurrency=args.concurrency,
                wait=args.wait,
                stall_timeout=args.stall_timeout,
            ).run(found.files)
        )
    except Refused as refused:
        print(f"chatconnect ingest: {refused}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted; documents already uploaded are processed all the same")
        return 130
    report.print(sys.stdout, unsupported=len(found.unsupported), hidden=found.hidden)
    return 1 if report.failed or report.unfinished or found.missing else 0


def default_token() -> str | None:
    token = os.environ.get("ADMIN_TOKEN", "").strip()
    if token:
        return token
    path = Path(os.environ.get("DATA_DIR", "").strip() or "./data") / "admin_token"
    try:
        return path.read_text().strip() or None
    except OSError:
        return None


# --- which files ---------------------------------------------------------------------------


@dataclass
class Found:
    files: list[Path] = field(default_factory=list)
    unsupported: list[Path] = field(default_factory=list)
    missing: list[Path] = field(default_factory=list)
    hidden: int = 0


def find_documents(paths: Sequence[Path]) -> Found:
    """Supported files under the given paths, in a stable order, each once. A file named
    on the command line is taken even if hidden; inside folders hidden entries are not."""
    found = Found()
    seen: set[Path] = set()

    def add(path: Path) -> None:
        key = path.resolve()
        if key in seen:
            return
        seen.add(key)
        if path.suffix.lower() in EXTENSIONS:
            found.files.append(path)
        else:
            found.unsupported.append(path)

    for path in paths:
        if path.is_dir():
            for root, folders, names in os.walk(path):
                hidden = [name for name in folders if name.startswith(".")]
                found.hidden += len(hidden)
                folders[:] = sorted(set(folders) - set(hidden))
                for name in sorted(names):
                    if name.startswith("."):
                        found.hidden += 1
                    elif (Path(root) / name).is_file():
                        add(Path(root) / name)
        elif path.is_file():
            add(path)
        else:
            found.missing.append(path)
    return found


# --- uploading and waiting -----------------------------------------------------------------


class Refused(Exception):
    """Nothing can be uploaded: the service is unreachable, or refuses the token or widget."""


@dataclass
class Outcome:
    path: Path
    document_id: str | None = None
    status: str = "pending"
    duplicate: bool = False
    error: str | None = None
    seen: tuple[Any, ...] = ()
    chunks_done: int = 0
    chunks_total: int = 0

    def line(self) -> str:
        """How this file ended, in one line."""
        if self.status == "failed":
            return f"failed     {self.path}: {self.error}"
        if self.duplicate:
            return f"duplicate  {self.path} (already there)"
        if self.status == "ready":
            chunks = f"{self.chunks_total} chunk{'' if self.chunks_total == 1 else 's'}"
            return f"ready      {self.path} ({chunks})"
        return f"{self.status:<10} {self.path}"


@dataclass
class Report:
    outcomes: list[Outcome]
    waited: bool
    stall_timeout: float

    @property
    def failed(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.status == "failed"]

    @property
    def unfinished(self) -> list[Outcome]:
        return [o for o in self.outcomes if self.waited and o.status not in DONE]

    def print(self, out: TextIO, *, unsupported: int = 0, hidden: int = 0) -> None:
        ok = [o for o in self.outcomes if o.status != "failed" and o not in self.unfinished]
        new = [o for o in ok if not o.duplicate]
        duplicates = len(ok) - len(new)
        parts = [
            f"{len(new)} {'ready' if self.waited else 'queued'}",
            f"{duplicates} duplicate{'' if duplicates == 1 else 's'} (already there)",
            f"{len(self.failed)} failed",
        ]
        if self.unfinished:
            parts.append(f"{len(self.unfinished)} unfinished")
        skipped = [f"{unsupported} unsupported"] if unsupported else []
        skipped += [f"{hidden} hidden"] if hidden else []
        total = len(self.outcomes)
        line = f"{total} document{'' if total == 1 else 's'}: {', '.join(parts)}"
        print(line + (f"; skipped: {', '.join(skipped)}" if skipped else ""), file=out)
        if self.failed:
            print("failed:", file=out)
            for outcome in self.failed:
                print(f"  {outcome.path}: {outcome.error}", file=out)
        if self.unfinished:
            print(f"no progress for {self.stall_timeout:g} s; still unfinished:", file=out)
            for outcome in self.unfinished:
                print(f"  {outcome.path}: {outcome.status} (id {outcome.document_id})", file=out)


class Ingestion:
    def __init__(
        self,
        *,
        url: str,
        token: str,
        widget_id: str,
        concurrency: int = 4,
        wait: bool = True,
        stall_timeout: float = 300,
        poll_interval: float = 0.25,
        max_poll_interval: float = 5.0,
        lines: bool | None = None,
        out: TextIO | None = None,
    ) -> None:
        self._url = url
        self._token = token
        self._widget_id = widget_id
        self._concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)
        self._wait = wait
        self._stall_timeout = stall_timeout
        self._poll_interval = poll_interval
        self._max_poll_interval = max_poll_interval
        # A line per file where no one watches the bars (a log, a pipe).
        self._out = out or sys.stdout
        self._lines = not self._out.isatty() if lines is None else lines
        self.status_requests = 0
        self._uploading = 0
        self._waiting: list[Outcome] = []
        self._moved = time.monotonic()

    async def run(self, files: Sequence[Path]) -> Report:
        import httpx
        from tqdm import tqdm

        outcomes = [Outcome(path) for path in files]
        async with httpx.AsyncClient(
            base_url=self._url,
            headers={"Authorization": f"Bearer {self._token}"},
            timeout=httpx.Timeout(120, connect=10),
            limits=httpx.Limits(max_connections=self._concurrency + 2),
            trust_env=False,
        ) as client:
            await self._check(client)
            # Bars go to stderr and only to a terminal; the summary goes to stdout. Documents
            # are processed in chunks, so progress is counted in chunks, which tell a big
            # document from a small one.
            uploaded = tqdm(total=len(files), desc="uploaded", unit="doc", disable=None)
            processed = (
                tqdm(total=0, desc="indexed ", unit="chunk", disable=None) if self._wait else None
            )
            try:
                self._uploading = len(outcomes)
                poller = asyncio.create_task(self._poll(client, processed)) if self._wait else None
                await asyncio.gather(
                    *(self._upload(client, outcome, uploaded, processed) for outcome in outcomes)
                )
                if poller is not None:
                    await poller
            finally:
                uploaded.close()
                if processed is not None:
                    processed.close()
        return Report(outcomes, waited=self._wait, stall_timeout=self._stall_timeout)

    async def _check(self, client: httpx.AsyncClient) -> None:
        """One request before any upload: is the service there, the token and widget good?"""
        import httpx

        try:
            response = await client.get(f"/api/widgets/{self._widget_id}")
        except httpx.HTTPError as error:
            raise Refused(
                f"could not reach the service at {self._url}: {in_words(error)} "
                "(is `chatconnect serve` running? see --url)"
            ) from None
        if response.status_code == 401:
            raise Refused(f"the service refused the admin token: {_message(response)}")
        if response.status_code == 404:
            raise Refused(f"widget {self._widget_id} not found at {self._url}")
        if response.status_code != 200:
            raise Refused(f"the service answered {_message(response)}")

    async def _upload(
        self,
        client: httpx.AsyncClient,
        outcome: Outcome,
        uploaded: tqdm[Any],
        processed: tqdm[Any] | None,
    ) -> None:
        async with self._slots:
            await self._send(client, outcome)
        uploaded.update(1)
        self._uploading -= 1
        self._moved = time.monotonic()
        if outcome.status == "failed" or not self._wait:
            self._said(outcome)
        else:
            self._waiting.append(outcome)

    def _said(self, outcome: Outcome) -> None:
        if self._lines:
            print(outcome.line(), file=self._out, flush=True)

    async def _send(self, client: httpx.AsyncClient, outcome: Outcome) -> None:
        import httpx

        try:
            content = await asyncio.to_thread(outcome.path.read_bytes)
        except OSError as error:
            _fail(outcome, f"could not read it: {error.strerror or error}")
            return
        kind = mimetypes.guess_type(outcome.path.name)[0] or "application/octet-stream"
        for attempt in range(1, UPLOAD_ATTEMPTS + 1):
            try:
                response = await client.post(
                    "/api/widget/process-document",
                    data={"widget_id": self._widget_id},
                    files={"file": (outcome.path.name, content, kind)},
                )
            except httpx.ConnectError as error:  # not sent: safe to send again
                if attempt < UPLOAD_ATTEMPTS:
                    await asyncio.sleep(0.5 * 2**attempt)
                    continue
                _fail(outcome, f"could not reach the service: {in_words(error)}")
                return
            except httpx.HTTPError as error:
                _fail(outcome, f"upload failed: {in_words(error)}")
                return
            if response.status_code == 503 and attempt < UPLOAD_ATTEMPTS:
                await asyncio.sleep(0.5 * 2**attempt)
                continue
            break
        if response.status_code not in (200, 202):
            _fail(outcome, _message(response))
            return
        body = response.json()
        outcome.document_id = str(body["document_id"])
        outcome.status = str(body["status"])
        outcome.duplicate = response.status_code == 200

    async def _poll(self, client: httpx.AsyncClient, processed: tqdm[Any] | None) -> None:
        """Rounds of one status request for every document still waiting; while nothing
        moves, the rounds are spaced out (up to `max_poll_interval`)."""
        delay = self._poll_interval
        followed: list[Outcome] = []
        while self._uploading or self._waiting:
            await asyncio.sleep(delay)
            batch = list(self._waiting)
            followed += [o for o in batch if o not in followed]
            moved = await self._refresh(client, batch)
            for outcome in batch:
                if outcome.status in DONE:
                    self._waiting.remove(outcome)
                    self._said(outcome)
            if processed is not None:
                processed.total = sum(o.chunks_total for o in followed)
                processed.n = sum(o.chunks_done for o in followed)
                done = sum(o.status in DONE for o in followed)
                processed.set_postfix_str(f"{done}/{len(followed)} documents", refresh=False)
                processed.refresh()
            now = time.monotonic()
            if moved:
                self._moved = now
                delay = self._poll_interval
            else:
                delay = min(delay * 1.5, self._max_poll_interval)
                if not self._uploading and now - self._moved > self._stall_timeout:
                    return  # what is still waiting is reported unfinished

    async def _refresh(self, client: httpx.AsyncClient, batch: list[Outcome]) -> bool:
        """Asks for the status of the batch's documents; says whether any moved on."""
        import httpx

        moved = False
        by_id = {o.document_id: o for o in batch}
        ids = list(by_id)
        for start in range(0, len(ids), STATUS_BATCH):
            self.status_requests += 1
            try:
                response = await client.post(
                    "/api/widget/documents/status",
                    json={"document_ids": ids[start : start + STATUS_BATCH]},
                )
            except httpx.HTTPError:
                continue  # a blip: asked again next round
            if response.status_code != 200:
                continue
            body = response.json()
            for gone in body["missing"]:
                _fail(by_id[gone], "the document was deleted while it was being processed")
                moved = True
            for document in body["documents"]:
                moved |= _update(by_id[document["document_id"]], document)
        return moved


def _update(outcome: Outcome, document: dict[str, Any]) -> bool:
    """Takes a document's status in; says whether it moved on since the last look."""
    outcome.status = str(document["status"])
    progress = document.get("progress") or {}
    if outcome.status == "ready":
        outcome.chunks_total = outcome.chunks_done = int(document.get("chunk_count") or 0)
    else:
        outcome.chunks_done = int(progress.get("done") or 0)
        outcome.chunks_total = int(progress.get("total") or 0)
    if outcome.status == "failed":
        outcome.error = str(document.get("error") or "processing failed")
    seen = (document["status"], document.get("stage"), str(progress))
    moved = seen != outcome.seen
    outcome.seen = seen
    return moved


def _fail(outcome: Outcome, reason: str) -> None:
    outcome.status = "failed"
    outcome.error = reason


def _message(response: httpx.Response) -> str:
    """The service's error message and status, e.g. "document is empty (422)"."""
    try:
        message = str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        message = response.text.strip()[:200] or response.reason_phrase
    return f"{message} ({response.status_code})"


def _widget_id(value: str) -> str:
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a widget id (a UUID): {value!r}") from None


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1, not {value!r}")
    return number
