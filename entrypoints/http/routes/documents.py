"""Owner routes: feed a widget documents, follow their processing, remove them."""

from __future__ import annotations

import mimetypes
from typing import Any
from uuid import UUID

import msgspec
from dishka.integrations.litestar import FromDishka, inject
from litestar import Request, Response, delete, get, post
from litestar.datastructures import UploadFile
from litestar.exceptions import ClientException
from litestar.params import FromPath, FromQuery

from application.documents import DeleteDocument, GetDocument, ListDocuments
from application.ingestion.submission import NewDocument, SubmitDocument, SubmitUrl
from domain.errors import InvalidInputError, UnsupportedMediaTypeError
from entrypoints.http.auth import owner_only
from entrypoints.http.schemas import Accepted, DocumentList, DocumentView, TextDocumentBody

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


async def _from_form(request: Request[Any, Any, Any]) -> NewDocument:
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile):
        raise InvalidInputError("multipart body needs a 'file' part", details={"field": "file"})
    content = await upload.read()
    title = form.get("title")
    return NewDocument(
        widget_id=_uuid(form.get("widget_id"), "widget_id"),
        title=title if isinstance(title, str) and title.strip() else upload.filename or "",
        content=content,
        content_type=content_type_of(upload.content_type, upload.filename),
    )


async def _json_body(request: Request[Any, Any, Any]) -> TextDocumentBody:
    try:
        body = msgspec.json.decode(await request.body(), type=TextDocumentBody)
    except msgspec.ValidationError as error:
        raise InvalidInputError(str(error)) from None
    except msgspec.DecodeError:
        raise ClientException("malformed JSON body") from None
    if (body.url is None) == (body.text is None):
        raise InvalidInputError("give either 'url' or 'text' (and a 'title'), or upload a file")
    return body


def _from_text(body: TextDocumentBody) -> NewDocument:
    return NewDocument(
        widget_id=body.widget_id,
        title=body.title or "",
        content=(body.text or "").encode(),
        content_type="text/markdown",
    )


@post(
    "/api/widget/process-document",
    guards=[owner_only],
    tags=["documents"],
    status_code=202,
)
@inject
async def process_document(
    request: Request[Any, Any, Any],
    submit: FromDishka[SubmitDocument],
    submit_url: FromDishka[SubmitUrl],
) -> Response[Accepted]:
    """Multipart (`widget_id`, `file`), JSON {widget_id, title, text} or JSON {widget_id,
    url}: 202 when queued (a known URL whose content changed is queued again), 200 with
    the existing document when the same content was already submitted."""
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
    if submitted.created:
        request.app.state.wake_worker()
    body = Accepted(document_id=submitted.document.id, status=submitted.document.status)
    return Response(body, status_code=202 if submitted.created else 200)


@get("/api/widget/documents/{document_id:uuid}/status", guards=[owner_only], tags=["documents"])
@inject
async def document_status(
    document_id: FromPath[UUID], get_document: FromDishka[GetDocument]
) -> DocumentView:
    return DocumentView.of(await get_document(document_id))


@get("/api/widget/documents", guards=[owner_only], tags=["documents"])
@inject
async def list_documents(
    widget_id: FromQuery[UUID], list_all: FromDishka[ListDocuments]
) -> DocumentList:
    return DocumentList([DocumentView.of(d) for d in await list_all(widget_id)])


@delete("/api/widget/documents/{document_id:uuid}", guards=[owner_only], tags=["documents"])
@inject
async def delete_document(document_id: FromPath[UUID], remove: FromDishka[DeleteDocument]) -> None:
    await remove(document_id)
