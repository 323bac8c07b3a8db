"""Origins as browsers send them: what an owner may allow, and what matches."""

from __future__ import annotations

import pytest

from domain.origins import OriginError, allowed_origin, is_serialized_origin, origin_policy
from testkit.entities import a_widget


@pytest.mark.parametrize(
    ("written", "stored"),
    [
        ("https://shop.example", "https://shop.example"),
        ("https://shop.example/", "https://shop.example"),
        ("HTTPS://Shop.EXAMPLE", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://shop.example:80/", "http://shop.example"),
        ("https://shop.example:8443", "https://shop.example:8443"),
        ("http://localhost:3000", "http://localhost:3000"),
        ("http://127.0.0.1:8000", "http://127.0.0.1:8000"),
        ("http://[::1]:8000", "http://[::1]:8000"),
        ("https://bücher.example", "https://xn--bcher-kva.example"),
        ("https://*.z.example", "https://*.z.example"),
        ("https://*.Z.example:8443/", "https://*.z.example:8443"),
        ("*", "*"),
    ],
)
def test_an_allowed_origin_is_kept_in_the_form_browsers_send(written: str, stored: str) -> None:
    assert allowed_origin(written) == stored


@pytest.mark.parametrize(
    "bad",
    [
        "shop.example",
        "https://shop.example//",
        "https://z.example/path",
        "https://shop.example?x=1",
        "https://shop.example#top",
        "https://user@shop.example",
        "ftp://shop.example",
        "https://",
        "https://shop..example",
        "https://shop.example.",
        "https://-shop.example",
        "https://shop.example:0",
        "https://shop.example:70000",
        "https://a*.z.example",
        "https://*.example",
        "https://*.*.z.example",
        "https://*.1.2.3.4",
        "https://300.1.1.1",
        "null",
        "",
    ],
)
def test_values_no_browser_origin_could_match_are_refused(bad: str) -> None:
    with pytest.raises(OriginError):
        allowed_origin(bad)


@pytest.mark.parametrize(
    "header",
    [
        "https://shop.example//",
        "https://shop.example/",
        "https://Shop.example",
        "https://shop.example:443",
        "https://shop.example/path",
        " https://shop.example",
        "https://shop.example ",
        "null",
        "*",
    ],
)
def test_only_an_origin_in_its_serialized_form_matches(header: str) -> None:
    assert not is_serialized_origin(header)
    assert not a_widget(allowed_origins=("https://shop.example",)).allows_origin(header)
    assert not a_widget(allowed_origins=("*",)).allows_origin(header)


def test_an_allowed_origin_matches_exactly() -> None:
    widget = a_widget(allowed_origins=("https://shop.example", "http://localhost:3000"))

    assert widget.allows_origin("https://shop.example")
    assert widget.allows_origin("http://localhost:3000")
    assert not widget.allows_origin("http://shop.example")
    assert not widget.allows_origin("https://shop.example:8443")
    assert not widget.allows_origin("https://www.shop.example")
    assert not widget.allows_origin("https://shop.example.evil.example")
    assert not widget.allows_origin("http://localhost:3001")


def test_a_wildcard_stands_for_exactly_one_label_on_the_same_scheme_and_port() -> None:
    widget = a_widget(allowed_origins=("https://*.z.example",))

    assert widget.allows_origin("https://a.z.example")
    assert widget.allows_origin("https://xn--bcher-kva.z.example")
    assert not widget.allows_origin("https://z.example")
    assert not widget.allows_origin("https://a.b.z.example")
    assert not widget.allows_origin("http://a.z.example")
    assert not widget.allows_origin("https://a.z.example:8443")
    assert not widget.allows_origin("https://az.example")
    assert not widget.allows_origin("https://a.z.example.evil.example")
    with_port = a_widget(allowed_origins=("https://*.z.example:8443",))
    assert with_port.allows_origin("https://a.z.example:8443")
    assert not with_port.allows_origin("https://a.z.example")


def test_a_star_alone_allows_any_origin_a_browser_sends() -> None:
    widget = a_widget(allowed_origins=("*",))
    assert widget.allows_origin("https://anywhere.example")
    assert widget.allows_origin("http://localhost:5173")


def test_origins_stored_before_they_were_checked_still_work_as_browsers_send_them() -> None:
    # Written by an older version: kept as given, normalised when read.
    widget = a_widget(
        allowed_origins=("https://Shop.example/", "https://old.example:443", "https://x.example/p")
    )
    assert widget.allows_origin("https://shop.example")
    assert widget.allows_origin("https://old.example")
    assert not widget.allows_origin("https://x.example")  # a path never matched anything
    assert origin_policy(widget.allowed_origins) is origin_policy(widget.allowed_origins)
