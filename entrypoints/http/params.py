"""Query parameters the routes read themselves, so that a wrong one is refused naming it."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated

from litestar.params import Parameter

from domain.errors import InvalidInputError

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# Far enough either way for any real period, near enough that a period's arithmetic (a
# day added, thirty taken away) never leaves what dates can hold.
_EARLIEST, _LATEST = datetime(1970, 1, 1, tzinfo=UTC), datetime(9000, 1, 1, tzinfo=UTC)

MOMENT_HELP = (
    "a date (2026-12-05, UTC) or an ISO 8601 timestamp (2026-12-05T14:30:00Z; without an "
    "offset, UTC)"
)
Since = Annotated[
    str | None,
    Parameter(
        description=f"Start of the period, inclusive: {MOMENT_HELP}.",
    ),
]
Until = Annotated[
    str | None,
    Parameter(
        description=f"End of the period, exclusive: {MOMENT_HELP}; a date includes that whole day.",
    ),
]


def moment(value: str | None, parameter: str, *, end: bool = False) -> datetime | None:
    """The moment a query parameter names. A date is the start of that day in UTC, or for
    the end of a period (`end`) the start of the next, so that `until=2026-12-05` takes in
    the whole of the 5th."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        if _DATE.fullmatch(text):
            day = datetime.combine(date.fromisoformat(text), time(), tzinfo=UTC)
            found = day + timedelta(days=1) if end else day
        else:
            found = datetime.fromisoformat(text.replace("z", "Z"))
            if found.tzinfo is None:
                found = found.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InvalidInputError(
            f"query parameter {parameter!r} must be {MOMENT_HELP}, not {value!r}",
            details={"parameter": parameter},
        ) from None
    if not _EARLIEST <= found <= _LATEST:
        raise InvalidInputError(
            f"query parameter {parameter!r} must be between 1970 and 9000",
            details={"parameter": parameter},
        )
    return found
