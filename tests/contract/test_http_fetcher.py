"""HttpFetcher against real HTTP(S) servers on 127.0.0.1, started by the tests."""

from __future__ import annotations

import contextlib
import ipaddress
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from adapters.fetching.addresses import refusal
from adapters.fetching.http_fetcher import USER_AGENT, HttpFetcher
from application.ports.documents import DocumentFetcher, FetchedDocument
from domain.errors import FetchError, InvalidInputError, PayloadTooLargeError
from testkit.fakes.fetcher import StaticFetcher

LIMIT = 100_000
PAGE = (
    b"<!DOCTYPE html>\n<html><head><meta charset='utf-8'>\n"
    b"<title>\n  Returns &amp; refunds \xe2\x80\x94 Shop\n</title></head>"
    b"<body><h1>Returns</h1><p>Within 30 days.</p></body></html>"
)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen_user_agents: list[str] = []  # noqa: RUF012 - shared by the test server's threads

    def log_message(self, *_: object) -> None:
        pass

    def _send(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _redirect(self, location: str, status: int = 302) -> None:
        self.send_response(status)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_GET(self) -> None:
        Handler.seen_user_agents.append(self.headers.get("User-Agent", ""))
        url = urlsplit(self.path)
        query = {key: values[0] for key, values in parse_qs(url.query).items()}
        # The fetcher hangs up past its bounds, as it should.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self._route(url.path, query)

    def _route(self, path: str, query: dict[str, str]) -> None:
        if path == "/page.html":
            self._send(200, PAGE, "text/html; charset=utf-8")
        elif path == "/untyped":
            self._send(200, b"<html><title>Sniffed</title></html>", "application/octet-stream")
        elif path == "/no-title.html":
            self._send(200, b"<html><body>none</body></html>", "text/html")
        elif path == "/docs/R%C3%BCckgabe.txt":
            self._send(200, b"Returns within 30 days.", "text/plain; charset=utf-8")
        elif path == "/":
            self._send(200, b"home", "text/plain")
        elif path == "/download":
            self._send(
                200,
                b"%PDF-1.4 fake",
                "application/pdf",
                Content_Disposition='attachment; filename="manual.pdf"',
            )
        elif path == "/host":
            self._send(200, self.headers["Host"].encode(), "text/plain")
        elif path == "/missing":
            self._send(404, b"no such page", "text/plain")
        elif path == "/broken":
            self._send(500, b"oops", "text/plain")
        elif path == "/moved":
            self._redirect("/page.html", 301)
        elif path == "/redirect":
            self._redirect(query["to"])
        elif path == "/loop":
            self._redirect("/loop")
        elif path == "/big-declared":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(LIMIT * 50))
            self.end_headers()
            self.wfile.write(b"x" * 1000)
        elif path == "/big-chunked":
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for _ in range(LIMIT * 50 // 16384):  # 5 MB unless the fetcher stops first
                self.wfile.write(b"4000\r\n" + b"y" * 16384 + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        elif path == "/exact":
            self._send(200, b"z" * LIMIT, "text/plain")
        elif path == "/slow":
            time.sleep(float(query.get("seconds", "3")))
            self._send(200, b"late", "text/plain")
        elif path == "/drip":  # headers at once, then a byte every 0.1 s: no read waits long
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", "40")
            self.end_headers()
            for _ in range(40):
                self.wfile.write(b".")
                self.wfile.flush()
                time.sleep(0.1)
        else:
            self._send(404, b"unknown", "text/plain")


class Server:
    def __init__(self, context: ssl.SSLContext | None = None) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if context is not None:
            self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str, host: str = "127.0.0.1", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    running = Server()
    yield running
    running.close()


@pytest.fixture
def fetcher() -> HttpFetcher:
    return HttpFetcher(allow_private=True, max_bytes=LIMIT, timeout=2)


def _resolver(table: dict[str, Sequence[str]], calls: list[str] | None = None):
    async def resolve(host: str, port: int) -> Sequence[str]:
        if calls is not None:
            calls.append(host)
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return table[host]

    return resolve


# --- what comes back ---------------------------------------------------------------------


async def test_html_page_gives_its_title_and_declared_type(
    server: Server, fetcher: HttpFetcher
) -> None:
    fetched = await fetcher.fetch(server.url("/page.html"))

    assert fetched.content == PAGE
    assert fetched.content_type == "text/html"  # parameters dropped
    assert fetched.title == "Returns & refunds — Shop"
    assert fetched.url == server.url("/page.html")
    assert Handler.seen_user_agents[-1] == USER_AGENT


async def test_other_documents_are_titled_by_file_name_or_last_path_segment(
    server: Server, fetcher: HttpFetcher
) -> None:
    text = await fetcher.fetch(server.url("/docs/R%C3%BCckgabe.txt"))
    assert (text.content_type, text.title) == ("text/plain", "Rückgabe.txt")

    pdf = await fetcher.fetch(server.url("/download"))
    assert (pdf.content_type, pdf.title) == ("application/pdf", "manual.pdf")

    home = await fetcher.fetch(server.url("/"))
    assert home.title == "127.0.0.1"

    untitled = await fetcher.fetch(server.url("/no-title.html"))
    assert untitled.title == "no-title.html"

    sniffed = await fetcher.fetch(server.url("/untyped"))
    assert (sniffed.content_type, sniffed.title) == ("application/octet-stream", "Sniffed")


async def test_redirects_are_followed_and_the_final_url_reported(
    server: Server, fetcher: HttpFetcher
) -> None:
    fetched = await fetcher.fetch(server.url("/moved"))

    assert fetched.url == server.url("/page.html")
    assert fetched.title == "Returns & refunds — Shop"


async def test_a_redirect_loop_ends_with_a_clear_error(
    server: Server, fetcher: HttpFetcher
) -> None:
    with pytest.raises(FetchError, match=r"127\.0\.0\.1:\d+ redirected more than 5 times"):
        await fetcher.fetch(server.url("/loop"))


async def test_an_error_status_is_reported_in_words(server: Server, fetcher: HttpFetcher) -> None:
    with pytest.raises(FetchError, match=r"^127\.0\.0\.1:\d+ answered 404 Not Found$") as caught:
        await fetcher.fetch(server.url("/missing"))
    assert caught.value.details["status"] == 404
    with pytest.raises(FetchError, match="answered 500 Internal Server Error"):
        await fetcher.fetch(server.url("/broken"))


async def test_a_closed_port_cannot_be_connected_to(fetcher: HttpFetcher) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        with pytest.raises(
            FetchError, match=rf"^could not connect to 127\.0\.0\.1:{port}: Connection refused$"
        ):
            await fetcher.fetch(f"http://127.0.0.1:{port}/")


async def test_an_unknown_host_cannot_be_resolved() -> None:
    fetcher = HttpFetcher(resolve=_resolver({}))
    with pytest.raises(FetchError, match=r"could not resolve nowhere\.example: Name or service"):
        await fetcher.fetch("https://nowhere.example/page")


# --- bounds ------------------------------------------------------------------------------


async def test_a_declared_length_over_the_bound_is_refused_before_reading(
    server: Server, fetcher: HttpFetcher
) -> None:
    with pytest.raises(
        PayloadTooLargeError, match=r"is 4\.77 MiB, more than the 97\.7 KiB that can be fetched"
    ):
        await fetcher.fetch(server.url("/big-declared"))


async def test_a_chunked_body_is_cut_off_once_past_the_bound(
    server: Server, fetcher: HttpFetcher
) -> None:
    with pytest.raises(
        PayloadTooLargeError, match=r"is larger than the 97\.7 KiB that can be fetched"
    ):
        await fetcher.fetch(server.url("/big-chunked"))


async def test_a_body_of_exactly_the_bound_is_accepted(
    server: Server, fetcher: HttpFetcher
) -> None:
    assert len((await fetcher.fetch(server.url("/exact"))).content) == LIMIT


async def test_a_slow_answer_times_out(server: Server) -> None:
    fetcher = HttpFetcher(allow_private=True, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"^timed out after 0\.5 s fetching http://127"):
        await fetcher.fetch(server.url("/slow?seconds=3"))
    assert time.monotonic() - started < 1.5


async def test_the_time_bound_is_for_the_whole_fetch_not_each_read(server: Server) -> None:
    """A server that sends a byte every 0.1 s never lets a single read time out."""
    fetcher = HttpFetcher(allow_private=True, timeout=1)
    started = time.monotonic()
    with pytest.raises(FetchError, match=r"timed out after 1 s"):
        await fetcher.fetch(server.url("/drip"))
    assert time.monotonic() - started < 2


# --- refused addresses -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1/", "loopback"),
        ("http://127.8.9.10:8080/admin", "loopback"),
        ("http://[::1]/", "loopback"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://localhost/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://192.168.1.1/", "private"),
        ("http://[fd12:3456::1]/", "private"),
        ("http://100.64.0.1/", r"shared \(CGNAT\)"),
        ("http://169.254.1.1/", "link-local"),
        ("http://[fe80::1]/", "link-local"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://224.0.0.1/", "multicast"),
        ("http://240.0.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fd00:ec2::254]/", "cloud metadata"),
        ("http://2130706433/", "loopback"),  # 127.0.0.1 written as one number
    ],
)
async def test_non_public_addresses_are_refused_by_default(url: str, kind: str) -> None:
    fetcher = HttpFetcher(timeout=2)
    with pytest.raises(InvalidInputError, match=rf"it is a {kind} address") as caught:
        await fetcher.fetch(url)
    assert caught.value.details["field"] == "url"


async def test_the_refusal_names_the_host_and_the_address_it_resolved_to() -> None:
    with pytest.raises(
        InvalidInputError, match=r"^refusing to fetch from localhost \((127\.0\.0\.1|::1)\)"
    ):
        await HttpFetcher(timeout=2).fetch("http://localhost:9/")


async def test_metadata_addresses_are_refused_even_when_private_ones_are_allowed() -> None:
    fetcher = HttpFetcher(allow_private=True, timeout=2)
    with pytest.raises(InvalidInputError, match="cloud metadata"):
        await fetcher.fetch("http://169.254.169.254/latest/meta-data/")


async def test_a_name_with_any_private_address_is_refused() -> None:
    fetcher = HttpFetcher(resolve=_resolver({"mixed.example": ["93.184.215.14", "10.0.0.7"]}))
    with pytest.raises(InvalidInputError, match=r"mixed\.example \(10\.0\.0\.7\).*private"):
        await fetcher.fetch("http://mixed.example/")


async def test_a_redirect_to_a_private_address_is_refused(server: Server) -> None:
    # The test server's loopback network is allowed explicitly; nothing else private is.
    fetcher = HttpFetcher(allowed_networks=["127.0.0.0/8"], timeout=2)
    assert (await fetcher.fetch(server.url("/page.html"))).content == PAGE

    for target, kind in [
        ("http://10.0.0.1/", "private"),
        ("http://[::1]:9/", "loopback"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
    ]:
        with pytest.raises(InvalidInputError, match=f"it is a {kind} address"):
            await fetcher.fetch(server.url(f"/redirect?to={target}"))


async def test_a_redirect_to_another_scheme_is_refused(
    server: Server, fetcher: HttpFetcher
) -> None:
    with pytest.raises(
        InvalidInputError, match="only http and https URLs can be fetched, not file:"
    ):
        await fetcher.fetch(server.url("/redirect?to=file:///etc/passwd"))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://example.com/file.pdf", "only http and https URLs can be fetched, not ftp:"),
        ("file:///etc/passwd", "only http and https URLs can be fetched, not file:"),
        ("gopher://127.0.0.1:6379/_INFO", "only http and https URLs can be fetched"),
        ("example.com/page", "give a full URL"),
        ("http:///nohost", "names no host|not a valid URL"),
    ],
)
async def test_only_http_and_https_urls_are_fetched(url: str, message: str) -> None:
    with pytest.raises(InvalidInputError, match=message):
        await HttpFetcher(allow_private=True).fetch(url)


async def test_the_connection_goes_to_the_address_that_was_checked(server: Server) -> None:
    """The name is resolved once per connection, by the check; the connection uses that
    address (system DNS does not know docs.test), while the Host header keeps the name."""
    calls: list[str] = []
    fetcher = HttpFetcher(
        allowed_networks=["127.0.0.0/8"],
        resolve=_resolver({"docs.test": ["127.0.0.1"]}, calls),
    )
    fetched = await fetcher.fetch(server.url("/host", host="docs.test"))

    assert fetched.content == f"docs.test:{server.port}".encode()
    assert calls == ["docs.test"]


async def test_a_name_rebound_to_a_private_address_is_refused(server: Server) -> None:
    fetcher = HttpFetcher(resolve=_resolver({"rebind.test": ["127.0.0.1"]}), timeout=2)
    with pytest.raises(InvalidInputError, match=r"rebind\.test \(127\.0\.0\.1\).*loopback"):
        await fetcher.fetch(server.url("/host", host="rebind.test"))


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("8.8.8.8", None),
        ("93.184.215.14", None),
        ("2606:4700::1111", None),
        ("64:ff9b::808:808", None),  # NAT64 of 8.8.8.8
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:8.8.8.8", None),
        ("198.18.0.1", "private"),  # benchmarking
        ("192.0.2.1", "private"),  # documentation
        ("255.255.255.255", "private"),
        ("::", "unspecified"),
        ("ff02::1", "multicast"),
    ],
)
def test_address_classification(address: str, kind: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == kind


@pytest.mark.parametrize("kind", ["http", "static"])
async def test_the_fetcher_and_its_fake_keep_the_port(server: Server, kind: str) -> None:
    page, missing = server.url("/page.html"), server.url("/missing")
    fetcher: DocumentFetcher
    if kind == "http":
        fetcher = HttpFetcher(allow_private=True, max_bytes=LIMIT, timeout=2)
    else:
        served = FetchedDocument(
            content=PAGE, content_type="text/html", url=page, title="Returns & refunds — Shop"
        )
        fetcher = StaticFetcher({page: served})

    fetched = await fetcher.fetch(page)

    assert isinstance(fetched, FetchedDocument)
    assert (fetched.content, fetched.content_type, fetched.url) == (PAGE, "text/html", page)
    assert fetched.title == "Returns & refunds — Shop"
    with pytest.raises(FetchError, match=r"answered .*404"):
        await fetcher.fetch(missing)


# --- https -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, Path, list[str]]]:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=docs.test",
            "-addext", "subjectAltName=DNS:docs.test,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    names: list[str] = []
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.sni_callback = lambda _sock, name, _ctx: names.append(name or "")
    running = Server(context)
    yield running, cert, names
    running.close()


async def test_https_verifies_the_name_and_sends_it_as_sni(
    tls: tuple[Server, Path, list[str]],
) -> None:
    """Connected to the checked 127.0.0.1, the TLS handshake still speaks of docs.test."""
    server, cert, names = tls
    fetcher = HttpFetcher(
        allowed_networks=["127.0.0.0/8"],
        ssl_context=ssl.create_default_context(cafile=str(cert)),
        resolve=_resolver({"docs.test": ["127.0.0.1"]}),
    )
    fetched = await fetcher.fetch(server.url("/page.html", host="docs.test", scheme="https"))

    assert fetched.title == "Returns & refunds — Shop"
    assert names[-1] == "docs.test"


async def test_https_to_a_name_the_certificate_does_not_cover_fails(
    tls: tuple[Server, Path, list[str]],
) -> None:
    server, cert, _ = tls
    fetcher = HttpFetcher(
        allow_private=True, ssl_context=ssl.create_default_context(cafile=str(cert))
    )
    with pytest.raises(
        FetchError, match=r"could not connect to 127\.0\.0\.1:\d+: TLS certificate not accepted"
    ):
        await fetcher.fetch(server.url("/page.html", scheme="https"))
