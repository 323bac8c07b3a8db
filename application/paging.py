"""Pages of a list, and the opaque cursors that lead to the next one.

A cursor names the last row of a page by its sort key (a moment and an id, unique and
never changing), so the next page starts right after it however many rows were added
or removed meanwhile: no row is skipped or repeated, which offsets cannot promise.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar
from uuid import UUID

import msgspec

from domain.errors import InvalidInputError

T = TypeVar("T")

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class Position(msgspec.Struct, frozen=True, array_like=True):
    """Where a page ended: the sort key of its last row."""

    at: datetime
    id: UUID


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder(Position).decode


def encode_cursor(position: Position) -> str:
    return base64.urlsafe_b64encode(_encode(position)).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Position | None:
    if cursor is None or cursor == "":
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return _decode(raw)
    except (binascii.Error, ValueError, msgspec.DecodeError):
        raise InvalidInputError(
            "cursor is not one this API gave (pass the next_cursor of the previous page)",
            details={"parameter": "cursor"},
        ) from None


def page_limit(limit: int | None) -> int:
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInputError(
            f"limit must be between 1 and {MAX_LIMIT}", details={"parameter": "limit"}
        )
    return limit


def paged(rows: Sequence[T], limit: int, position_of: Callable[[T], Position]) -> Page[T]:
    """A page of `limit` rows from a read of `limit + 1`: the extra row, when there is one,
    says that a next page exists."""
    items = list(rows[:limit])
    more = len(rows) > limit
    return Page(items, encode_cursor(position_of(items[-1])) if more and items else None)
