"""Why a connection failed, in words a person can act on.

Only the standard library: the ingest command imports it without the fetcher's httpx.
"""

from __future__ import annotations

import os
import ssl


def in_words(error: BaseException) -> str:
    """The root cause: "Connection refused" rather than a library's summary of it."""
    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return f"TLS certificate not accepted ({seen.verify_message})"
        if isinstance(seen, ssl.SSLError):
            return f"TLS failed ({seen.reason or seen})"
        if isinstance(seen, OSError) and seen.errno:
            return os.strerror(seen.errno)
        seen = seen.__cause__ or seen.__context__
    return str(error).strip() or type(error).__name__
