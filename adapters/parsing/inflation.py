"""How far a document's compressed parts may inflate: the rule shared by the ZIP parts of
Office files and the streams of PDFs.

Two limits: all parts together inflate to at most `max_total_mb`, and no part inflates
past `max_ratio` times its compressed size, every part counted whatever its size. Small
parts compress absurdly well without being a threat (an empty table's cells or a
repeated paragraph deflate 100-160 times in a 200 KB document.xml), so what parts inflate
past the ratio counts against one small allowance for the whole file; many small parts
then add up as one large part would (190 header parts of 0.99 MB each are refused like
one part of 188 MB).
"""

from __future__ import annotations

from typing import NamedTuple

_MB = 1024 * 1024
RATIO_ALLOWANCE_BYTES = _MB


class _Part(NamedTuple):
    name: str
    compressed: int
    inflated: int


class InflationBudget:
    def __init__(self, *, max_total_mb: int, max_ratio: int) -> None:
        self._max_total = max_total_mb * _MB
        self._max_ratio = max_ratio
        self._total = 0
        self._excess = 0
        self._over_ratio: list[_Part] = []

    def add(self, name: str, *, compressed: int, inflated: int) -> None:
        self._total += inflated
        excess = inflated - self._max_ratio * max(compressed, 1)
        if excess > 0:
            self._excess += excess
            self._over_ratio.append(_Part(name, compressed, inflated))

    def room(self, compressed: int) -> int:
        """The most a part of `compressed` bytes may inflate to with the file still within
        both limits; inflating one byte more puts it over."""
        by_total = self._max_total - self._total
        by_ratio = self._max_ratio * max(compressed, 1) + RATIO_ALLOWANCE_BYTES - self._excess
        return max(min(by_total, by_ratio), 0)

    @property
    def total_mb(self) -> int:
        return self._total // _MB

    @property
    def over_total(self) -> bool:
        return self._total > self._max_total

    @property
    def over_ratio(self) -> bool:
        return self._excess > RATIO_ALLOWANCE_BYTES

    def bomb_description(self, part: str = "part") -> str:
        """'expands to more than 188 MB from 730 KB (190 parts inflate more than 100 times
        their size, e.g. 'word/header7.xml')'."""
        parts = self._over_ratio
        inflated = sum(p.inflated for p in parts)
        compressed = sum(p.compressed for p in parts)
        worst = max(parts, key=lambda p: p.inflated / max(p.compressed, 1))
        count = (
            f"1 {part} inflates more than {self._max_ratio} times its size"
            if len(parts) == 1
            else f"{len(parts)} {part}s inflate more than {self._max_ratio} times their size"
        )
        return (
            f"expands to more than {inflated // _MB} MB from {max(compressed // 1024, 1)} KB "
            f"({count}, e.g. {worst.name!r})"
        )
