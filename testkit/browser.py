"""Headless Chromium for the widget's browser tests and benchmark: Debian's Chromium driven
by Playwright (nothing downloaded at run time), and a third-party page on a second origin
that embeds the widget under a strict Content-Security-Policy and collects its reports."""

from __future__ import annotations

import html
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

CHROMIUM = Path(shutil.which("chromium") or "/usr/bin/chromium")
# As root, with no sandbox; without the background-networking flags Chromium keeps
# calling out to Google's hosts, which this network refuses.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def why_no_browser() -> str | None:
    """None when the browser tests can run; else the reason they cannot."""
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (requirements-dev.lock)"
    return None


def launch(playwright: Any) -> Any:
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS
    )


def strict_csp(service_origin: str) -> str:
    """Only the service's origin, for scripts, styles and connections; nothing inline."""
    return (
        f"default-src 'none'; script-src {service_origin}; style-src {service_origin}; "
        f"connect-src {service_origin}; img-src 'none'; base-uri 'none'; form-action 'none'; "
        "report-uri /csp-report"
    )


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>A shop that embeds ChatConnect</title></head>
<body><main><h1>Kettles</h1><p>Our kettles boil water.</p>
<script src="{src}" data-widget-key="{key}" async></script></main></body></html>
"""


class EmbeddingSite:
    """A page on its own origin: GET /?key=… embeds the widget; CSP reports are kept."""

    def __init__(self, service_url: str) -> None:
        self.service_url = service_url.rstrip("/")
        self.reports: list[dict[str, Any]] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlparse(self.path).query)
                key = query.get("key", [""])[0]
                body = PAGE.format(
                    src=html.escape(f"{site.service_url}/widget.js"), key=html.escape(key)
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Security-Policy", strict_csp(site.service_url))
                self.send_header("Cache-Control", "no-store")
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                raw = self.rfile.read(length)
                if self.path.startswith("/csp-report"):
                    site.reports.append(json.loads(raw or b"{}"))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.origin = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def page_url(self, key: str) -> str:
        return f"{self.origin}/?key={key}"

    def start(self) -> EmbeddingSite:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


@contextmanager
def embedding_site(service_url: str) -> Iterator[EmbeddingSite]:
    site = EmbeddingSite(service_url).start()
    try:
        yield site
    finally:
        site.stop()


# Installed before any script of the page: every CSP violation the page sees is kept.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.__violations.push(e.violatedDirective + ' ' + (e.blockedURI || '') + ' ' + e.sample);
});
"""
