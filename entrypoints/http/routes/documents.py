"""Owner routes: feed a widget documents, follow their processing, remove them."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import msgspec
import structlog
from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, delete, get, post
from litestar.datastructures import FormMultiDict, UploadFile
from litestar.exceptions import ClientException, HTTPException
from litestar.openapi import ResponseSpec
from litestar.openapi.spec import (
    OpenAPIFormat,
    OpenAPIMediaType,
    OpenAPIType,
    Operation,
    RequestBody,
    Schema,
)
from litestar.params import FromPath, FromQuery, JSONBody

from application.documents import DeleteDocument, GetDocument, GetDocuments, ListDocuments
from application.ingestion.submission import NewDocument, SubmitDocument, Submitted, SubmitUrl
from domain.errors import ChatConnectError, InvalidInputError, UnsupportedMediaTypeError
from domain.models import Text, without_nul
from domain.models.text import STORABLE_PATTERN
from entrypoints.http.auth import owner_only
from entrypoints.http.bodies import malformed_body_refused
from entrypoints.http.errors import invalid_body, status_of
from entrypoints.http.openapi import OWNER, owner_errors
from entrypoints.http.schemas import (
    Accepted,
    DocumentList,
    DocumentStatuses,
    DocumentView,
    StatusRequest,
    TextDocumentBody,
)

log = structlog.get_logger()
OWNER_ROUTE = {"guards": [owner_only], "security": OWNER, "tags": ["documents"]}

_WIDGET_ID = Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.UUID)
_TITLE = Schema(
    type=OpenAPIType.STRING,
    pattern=STORABLE_PATTERN,
    description="The document's title; without one, an HTML page's <title>, else the file name.",
)
_UPLOAD = RequestBody(
    required=True,
    description="A file (multipart), a text, or a page by its URL (JSON).",
    content={
        "multipart/form-data": OpenAPIMediaType(
            schema=Schema(
                type=OpenAPIType.OBJECT,
                required=["widget_id", "file"],
                properties={
                    "widget_id": _WIDGET_ID,
                    "file": Schema(type=OpenAPIType.STRING, format=OpenAPIFormat.BINARY),
                    "title": _TITLE,
                },
            )
        ),
        "application/json": OpenAPIMediaType(
            schema=Schema(
                one_of=[
                    Schema(
                        type=OpenAPIType.OBJECT,
                        required=["widget_id", "text"],
                        properties={
                            "widget_id": _WIDGET_ID,
                            "text": Schema(type=OpenAPIType.STRING, pattern=r"[^\s\x1c-\x1f\x85]"),
                            "title": _TITLE,
                        },
                        additional_properties=False,
                    ),
                    Schema(
                        type=OpenAPIType.OBJECT,
                        required=["widget_id", "url"],
                        properties={
                            "widget_id": _WIDGET_ID,
                            "url": Schema(
                                type=OpenAPIType.STRING,
                                format=OpenAPIFormat.URI,
                                max_length=2048,
                                pattern=STORABLE_PATTERN,
                            ),
                            "title": _TITLE,
                        },
                        additional_properties=False,
                    ),
                ]
            )
        ),
    },
)


@dataclass
class _Upload(Operation):
    """The upload's operation, with the bodies it reads itself (form or JSON) declared."""

    def __post_init__(self) -> None:
        self.request_body = _UPLOAD


_BY_EXTENSION = {
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".txt": "text/plain",
    ".text": "text/plain",
}
_GENERIC = frozenset({"", "application/octet-stream", "binary/octet-stream"})


def content_type_of(declared: str | None, filename: str | None) -> str:
    """The filename's extension wins over a browser's guess, which is often generic."""
    if filename:
        extension = "." + filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
        known = _BY_EXTENSION.get(extension) or mimetypes.types_map.get(extension)
        if known:
            return known
    declared = (declared or "").split(";")[0].strip().lower()
    return declared if declared not in _GENERIC else "application/octet-stream"


def _uuid(value: object, field: str) -> UUID:
    try:
        return UUID(str(value))
    except ValueError:
        raise InvalidInputError(f"{field} must be a UUID", details={"field": field}) from None


class _FormFields(msgspec.Struct, frozen=True, kw_only=True):
    """The upload's text parts, checked as JSON bodies are (a NUL in a title is refused)."""

    title: Text = ""


async def _form(request: Request[Any, Any, Any]) -> FormMultiDict:
    try:
        with malformed_body_refused():  # a text field whose bytes are not UTF-8
            return await request.form()
    except ClientException as refused:
        # The multipart parser caps each part's header lines at 4 KB; the only long one a
        # client sends is the file's Content-Disposition, long by its file name.
        if "header length" in str(refused.__context__):
            raise InvalidInputError(
                "the file name is too long: a multipart part's headers may take at most "
                "4 KB, so rename the file to a shorter name",
                details={"field": "file", "problem": "filename too long"},
            ) from None
        raise


async def _from_form(request: Request[Any, Any, Any]) -> NewDocument:
    form = await _form(request)
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInputError("multipart body needs a 'file' part", details={"field": "file"})
    title = form.get("title")
    try:
        fields = msgspec.convert({"title": title if isinstance(title, str) else ""}, _FormFields)
    except msgspec.ValidationError as error:
        raise invalid_body(error) from None
    content = await upload.read()
    return NewDocument(
        widget_id=_uuid(form.get("widget_id"), "widget_id"),
        # Without one, an HTML page is titled by its <title>, anything else by its name.
        title=fields.title,
        content=content,
        content_type=content_type_of(upload.content_type, upload.filename),
        filename=upload.filename,
    )


async def _json_body(request: Request[Any, Any, Any]) -> TextDocumentBody:
    try:
        with malformed_body_refused():
            body = msgspec.json.decode(await request.body(), type=TextDocumentBody)
    except msgspec.ValidationError as error:
        raise invalid_body(error) from None
    except msgspec.DecodeError:
        raise ClientException("malformed JSON body") from None
    if (body.url is None) == (body.text is None):
        raise InvalidInputError("give either 'url' or 'text' (and a 'title'), or upload a file")
    return body


def _from_text(body: TextDocumentBody) -> NewDocument:
    return NewDocument(
        widget_id=body.widget_id,
        title=body.title or "",
        # A NUL in a text is no character anyone meant; PostgreSQL could not keep it.
        content=without_nul(body.text or "").encode(),
        content_type="text/markdown",
    )


@post(
    "/api/widget/process-document",
    **OWNER_ROUTE,
    status_code=202,
    responses={
        # 429: the tenant's plan allows no more documents this month (Retry-After: when
        # it renews).
        **owner_errors(400, 404, 413, 415, 429),
        200: ResponseSpec(
            data_container=Accepted,
            description="The same content was submitted before: that document, as it is.",
            generate_examples=False,
        ),
    },
    operation_class=_Upload,
)
@inject
async def process_document(
    request: Request[Any, Any, Any],
    submit: FromDishka[SubmitDocument],
    submit_url: FromDishka[SubmitUrl],
) -> Response[Accepted]:
    """Multipart (`widget_id`, `file`, `title`?), JSON {widget_id, title, text} or JSON
    {widget_id, url}: 202 when queued (a known URL whose content changed is queued again),
    200 with the existing document when the same content was already submitted. Without a
    title, an HTML page is titled by its `<title>`, another file by its name."""
    try:
        submitted = await _submit(request, submit, submit_url)
    except ChatConnectError as refused:
        # The owner sees the reason in the response; the operator, here.
        _refused(request, status_of(refused), refused.code, refused.message)
        raise
    except HTTPException as refused:  # the framework's own: a body too large, malformed
        _refused(request, refused.status_code, type(refused).__name__, refused.detail)
        raise
    if submitted.created:
        request.app.state.wake_worker()
    body = Accepted(document_id=submitted.document.id, status=submitted.document.status)
    return Response(body, status_code=202 if submitted.created else 200)


def _refused(request: Request[Any, Any, Any], status: int, code: str, reason: str) -> None:
    log.warning(
        "document_refused",
        status=status,
        code=code,
        reason=reason,
        content_type=request.content_type[0],
        content_length=request.headers.get("content-length"),
    )


async def _submit(
    request: Request[Any, Any, Any], submit: SubmitDocument, submit_url: SubmitUrl
) -> Submitted:
    media = request.content_type[0]
    if media == "multipart/form-data":
        submitted = await submit(await _from_form(request))
    elif media == "application/json":
        body = await _json_body(request)
        if body.url is not None:
            submitted = await submit_url(body.widget_id, body.url, body.title)
        else:
            submitted = await submit(_from_text(body))
    else:
        raise UnsupportedMediaTypeError("send multipart/form-data or application/json")
    return submitted


@get("/api/widget/documents/{document_id:uuid}/status", **OWNER_ROUTE, responses=owner_errors(404))
@inject
async def document_status(
    document_id: FromPath[UUID], get_document: FromDishka[GetDocument]
) -> DocumentView:
    return DocumentView.of(await get_document(document_id))


@post(
    "/api/widget/documents/status",
    **OWNER_ROUTE,
    status_code=200,
    responses=owner_errors(400),
)
@inject
async def documents_status(
    data: JSONBody[StatusRequest], get_documents: FromDishka[GetDocuments]
) -> DocumentStatuses:
    """The status of many documents in one call (up to 1,000), for a client following an
    upload of many: `missing` lists the ids that name no document (deleted, or never)."""
    found = await get_documents(data.document_ids)
    known = {d.id for d in found}
    return DocumentStatuses(
        documents=[DocumentView.of(d) for d in found],
        missing=list(dict.fromkeys(i for i in data.document_ids if i not in known)),
    )


@get("/api/widget/documents", **OWNER_ROUTE, responses=owner_errors(404))
@inject
async def list_documents(
    widget_id: FromQuery[UUID], list_all: FromDishka[ListDocuments]
) -> DocumentList:
    return DocumentList([DocumentView.of(d) for d in await list_all(widget_id)])


@delete("/api/widget/documents/{document_id:uuid}", **OWNER_ROUTE, responses=owner_errors(404))
@inject
async def delete_document(document_id: FromPath[UUID], remove: FromDishka[DeleteDocument]) -> None:
    await remove(document_id)
