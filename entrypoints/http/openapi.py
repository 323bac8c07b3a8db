"""The API describing itself: who may call what (security schemes), every error in the
shape the service really answers, and docs pages whose assets the service serves itself."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import msgspec
from litestar import Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi import OpenAPIConfig, ResponseSpec
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme, Server
from litestar.params import FromPath

SCHEMA_PATH = "/schema"
ASSETS = f"{SCHEMA_PATH}/assets"
OWNER_SCHEME, WIDGET_SCHEME = "owner", "widgetKey"
# Owner routes take the admin token; widget routes a widget's public key, or the admin
# token for a server-side proxy that names the widget in the body.
OWNER: list[dict[str, list[str]]] = [{OWNER_SCHEME: []}]
WIDGET: list[dict[str, list[str]]] = [{WIDGET_SCHEME: []}, {OWNER_SCHEME: []}]


class ErrorDetail(msgspec.Struct, frozen=True):
    code: str
    message: str
    details: Any = None


class ErrorBody(msgspec.Struct, frozen=True):
    """Every error the service answers, whatever its status."""

    error: ErrorDetail


_WHEN = {
    400: "Malformed request: the body is not valid JSON or multipart.",
    401: "No or wrong credentials (`unauthorized`).",
    403: "The request's Origin is not on the widget's allowed origins.",
    404: "No such widget, document or conversation.",
    413: "The body is larger than allowed.",
    415: "A content type the service does not take.",
    422: "A field or query parameter is invalid; `message` names it, `details` says where.",
    429: "A rate limit or the monthly allowance is reached; see `Retry-After`.",
    500: "An unexpected error, logged with the request id (`X-Request-ID`).",
    503: "A dependency the request needs (database, vector store, models, cache) is down.",
}


def errors(*statuses: int) -> dict[int, ResponseSpec]:
    """Error responses for a route: the ones given, and those any route may answer (which
    also replace the framework's own 400, documented in a shape the service never sends)."""
    return {
        status: ResponseSpec(
            data_container=ErrorBody, description=_WHEN[status], generate_examples=False
        )
        for status in sorted({*statuses, 400, 422, 500, 503})
    }


def owner_errors(*statuses: int) -> dict[int, ResponseSpec]:
    return errors(401, *statuses)


def widget_errors(*statuses: int) -> dict[int, ResponseSpec]:
    return errors(400, 401, 403, 413, 429, *statuses)


def _swagger_static() -> Path:
    """Swagger UI's own build, as the swagger-ui-py package ships it (its Python code, for
    other frameworks, is never imported)."""
    spec = importlib.util.find_spec("swagger_ui")
    assert spec is not None and spec.submodule_search_locations, "swagger-ui-py is a dependency"
    return Path(next(iter(spec.submodule_search_locations))) / "static"


_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


@get(f"{ASSETS}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def docs_asset(name: FromPath[str]) -> Response[bytes]:
    """The docs pages' scripts and styles, from this service: the pages work offline."""
    if name not in _ASSET_TYPES:
        raise NotFoundException(f"no asset {name}")
    content = (_swagger_static() / name).read_bytes()
    return Response(
        content,
        media_type=_ASSET_TYPES[name],
        headers={"Cache-Control": "public, max-age=86400"},
    )


DESCRIPTION = """
The AI backend of an embeddable chat widget: owners create widgets and feed them documents;
visitors ask, and answers come grounded in those documents, with numbered sources.

**Who calls what.** Owner routes take `Authorization: Bearer <ADMIN_TOKEN>` (the `owner`
scheme). Widget routes (`/api/widget/chat`, `/api/widget/chat/stream`) take the widget's
public key in `X-Widget-Key` (the `widgetKey` scheme), or the admin token with `widget_id`
in the body, for a server-side proxy.

**Errors** always have the shape `{"error": {"code", "message", "details"}}`; `code` is
stable, `message` is written for people, and `details` (when present) names the field or
query parameter at fault (`{"parameter": "since"}`, `{"field": "models", ...}`).

**Periods** (`since`, `until`) take a date (`2026-12-05`, UTC) or an ISO 8601 timestamp;
`since` is inclusive, `until` exclusive, and a date as `until` includes that whole day.

**Pages** come with a `next_cursor`: pass it as `cursor` for the next page; `null` means
that was the last.
"""


def openapi_config(version: str) -> OpenAPIConfig:
    return OpenAPIConfig(
        title="ChatConnect",
        version=version,
        description=DESCRIPTION.strip(),
        path=SCHEMA_PATH,
        servers=[Server(url="/")],
        components=Components(
            security_schemes={
                OWNER_SCHEME: SecurityScheme(
                    type="http",
                    scheme="bearer",
                    description="The admin token (`ADMIN_TOKEN`, or `data/admin_token`).",
                ),
                WIDGET_SCHEME: SecurityScheme(
                    type="apiKey",
                    name="X-Widget-Key",
                    security_scheme_in="header",
                    description="A widget's public key, as its embed script sends it.",
                ),
            }
        ),
        render_plugins=[
            SwaggerRenderPlugin(
                js_url=f"{ASSETS}/swagger-ui-bundle.js",
                css_url=f"{ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{ASSETS}/swagger-ui-standalone-preset.js",
                favicon=f"<link rel='icon' type='image/png' href='{ASSETS}/favicon-32x32.png'>",
                path=["/", "/swagger"],
            )
        ],
    )
