"""The embeddable script, served as is (no build step), and the development demo page."""

from __future__ import annotations

import gzip
import hashlib
import html
from pathlib import Path
from typing import Annotated, Any

from litestar import Request, Response, get
from litestar.openapi import ResponseSpec
from litestar.params import Parameter

from entrypoints.http.openapi import errors

STATIC = Path(__file__).resolve().parent.parent / "static"
# A versioned URL never changes content, so browsers and CDNs may keep it for a year; the
# bare URL of the snippet is revalidated (ETag) after a few minutes, so a fix reaches
# every page soon.
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATED = "public, max-age=300"
DEMO_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
    "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


class Asset:
    """A static file with its gzip form and a version named after its content."""

    def __init__(self, name: str, media_type: str) -> None:
        self.body = (STATIC / name).read_bytes()
        # mtime=0: the same file compresses to the same bytes on every start.
        self.gzipped = gzip.compress(self.body, compresslevel=9, mtime=0)
        self.version = hashlib.sha256(self.body).hexdigest()[:16]
        self.media_type = media_type

    def response(self, request: Request[Any, Any, Any], cache_control: str) -> Response[bytes]:
        gzipped = "gzip" in request.headers.get("accept-encoding", "")
        etag = f'"{self.version}{"-gz" if gzipped else ""}"'
        headers = {
            "Cache-Control": cache_control,
            "ETag": etag,
            "Vary": "Accept-Encoding",
            "X-Content-Type-Options": "nosniff",
            # Pages that isolate themselves (COEP) may still load it.
            "Cross-Origin-Resource-Policy": "cross-origin",
        }
        if etag in request.headers.get("if-none-match", ""):
            return Response(b"", status_code=304, headers=headers, media_type=self.media_type)
        if gzipped:
            headers["Content-Encoding"] = "gzip"
        return Response(
            self.gzipped if gzipped else self.body, headers=headers, media_type=self.media_type
        )


WIDGET_JS = Asset("widget.js", "text/javascript; charset=utf-8")
DEMO_CSS = Asset("demo.css", "text/css; charset=utf-8")


@get(
    "/widget.js",
    tags=["widget"],
    include_in_schema=True,
    media_type="text/javascript",
    responses={
        304: ResponseSpec(None, description="Not modified (`If-None-Match` held its ETag)."),
        **errors(),
    },
)
async def widget_js(
    request: Request[Any, Any, Any],
    v: Annotated[str | None, Parameter(description="The script's current version.")] = None,
) -> Response[bytes]:
    """The embeddable script: `<script src=".../widget.js" data-widget-key="…" async>`.
    With `?v=` its current version (the `X-Widget-Version` header) it is cached for a year."""
    versioned = v == WIDGET_JS.version
    response = WIDGET_JS.response(request, IMMUTABLE if versioned else REVALIDATED)
    response.headers["X-Widget-Version"] = WIDGET_JS.version
    return response


@get("/demo/demo.css", include_in_schema=False)
async def demo_css(request: Request[Any, Any, Any]) -> Response[bytes]:
    return DEMO_CSS.response(request, REVALIDATED)


@get("/demo", include_in_schema=False)
async def demo_page(
    key: Annotated[str | None, Parameter(description="The widget key to embed.")] = None,
) -> Response[str]:
    """A sample third-party page embedding the widget (ENVIRONMENT=development only)."""
    template = (STATIC / "demo.html").read_text()
    if key:
        embed = (
            f'<script src="/widget.js?v={WIDGET_JS.version}" '
            f'data-widget-key="{html.escape(key, quote=True)}" async></script>'
        )
    else:
        embed = (
            '<p class="hint">Add <code>?key=YOUR_WIDGET_PUBLIC_KEY</code> to this address, '
            "with this page's origin in the widget's <code>allowed_origins</code>.</p>"
        )
    return Response(
        template.replace("<!--embed-->", embed),
        media_type="text/html; charset=utf-8",
        headers={"Content-Security-Policy": DEMO_CSP, "Cache-Control": "no-store"},
    )
