"""The root cause of a failed connection, as the fetcher and the ingest command both say it."""

from __future__ import annotations

import errno
import ssl

import pytest

from adapters.fetching.failures import in_words


def caused_by(cause: BaseException) -> Exception:
    try:
        try:
            raise cause
        except BaseException as inner:
            raise RuntimeError("All connection attempts failed") from inner
    except RuntimeError as outer:
        return outer


def test_the_deepest_os_error_is_named_by_its_errno() -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")

    assert in_words(caused_by(refused)) == "Connection refused"


def test_tls_failures_say_whether_the_certificate_was_refused() -> None:
    untrusted = ssl.SSLCertVerificationError(1, "certificate verify failed")
    untrusted.verify_message = "self-signed certificate"
    broken = ssl.SSLError(1, "[SSL] record layer failure")
    broken.reason = "RECORD_LAYER_FAILURE"

    assert (
        in_words(caused_by(untrusted)) == "TLS certificate not accepted (self-signed certificate)"
    )
    assert in_words(caused_by(broken)) == "TLS failed (RECORD_LAYER_FAILURE)"


@pytest.mark.parametrize(
    ("error", "said"),
    [(ValueError(" no route \n"), "no route"), (TimeoutError(), "TimeoutError")],
)
def test_without_an_os_cause_the_error_speaks_for_itself(error: Exception, said: str) -> None:
    assert in_words(error) == said
