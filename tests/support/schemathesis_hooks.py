"""Hooks for the schemathesis run in README's Tests section (`SCHEMATHESIS_HOOKS`).

Beyond what the schema allows, every third case carries a NUL in a string it sends (in
the JSON body, else the query, else the path) and every third JSON body has bytes that
are not UTF-8 in place of a string, so the run shows that neither reaches the service as
a server error: each must be refused (422 naming the field, 400 for the bytes)."""

from __future__ import annotations

import itertools
import json
from typing import Any

import schemathesis

NUL = "\x00"
# An encoded surrogate and a byte that no UTF-8 text holds.
NOT_UTF8 = b"\xed\xa0\x80\xff"
_MARK = "\ue000not-utf8\ue000"
_cases = itertools.count()


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    turn = next(_cases) % 3
    if turn == 1:
        _with_nul(case)
    elif turn == 2 and isinstance(case.body, dict) and "json" in (case.media_type or ""):
        case.body = _not_utf8(case.body)


def _first_text(values: Any) -> str | None:
    if not isinstance(values, dict):
        return None
    return next((key for key, value in values.items() if isinstance(value, str)), None)


def _with_nul(case: Any) -> None:
    for place in ("body", "query", "path_parameters"):
        values = getattr(case, place)
        key = _first_text(values)
        if key is not None:
            setattr(case, place, {**values, key: values[key] + NUL})
            return


def _not_utf8(body: dict[str, Any]) -> bytes:
    key = _first_text(body) or "note"
    text = json.dumps({**body, key: _MARK}, ensure_ascii=False).encode()
    return text.replace(_MARK.encode(), NOT_UTF8)
