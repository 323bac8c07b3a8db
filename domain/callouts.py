"""An example whose lines are explained by a numbered list after it (AsciiDoc's and
DocBook's callouts): "$ git diff <1> $ git diff --cached <2>", then "Changes in the working
tree not yet staged for the next commit.", then "Changes between the index and your last
commit...". Parsed, the list's items stand alone and say nothing of which command they
explain; read as a definition list, each is said with its command."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import msgspec

from domain.models import Element

# A line's marker, "<1>", after the command it explains.
_MARKER = re.compile(r"\s*<(\d{1,2})>(?=\s|$)\s*")
# A shell's prompt before a command; an example flattened to one line has one before each.
_PROMPT = re.compile(r"(?:^|\s)\S*[$#]\s+")


def _commands(text: str) -> list[str]:
    """The commands of an example with callouts 1, 2, … in order, or none: each the line
    its marker ends, without the prompt ("git reset --soft HEAD^" of "$ git commit ...
    $ git reset --soft HEAD^ <1>")."""
    parts = _MARKER.split(text.strip())
    # [lines, "1", lines, "2", …, what follows the last marker].
    if len(parts) < 3:
        return []
    before, numbers = parts[0:-1:2], parts[1::2]
    if numbers != [str(n) for n in range(1, len(numbers) + 1)]:
        return []
    commands = [
        _PROMPT.split(lines.splitlines()[-1] if lines else "")[-1].strip() for lines in before
    ]
    return commands if all(commands) else []


def _explains(elements: Sequence[Element]) -> bool:
    return all(e.kind == "text" and not _MARKER.search(e.text) for e in elements)


def with_callouts_read(elements: Sequence[Element]) -> list[Element]:
    """The elements with each explained command again before its explanation, as a
    definition list's term."""
    return list(_read(elements))


def _read(elements: Sequence[Element]) -> Iterator[Element]:
    n = 0
    while n < len(elements):
        element = elements[n]
        commands = _commands(element.text) if element.kind == "text" else []
        items = elements[n + 1 : n + 1 + len(commands)]
        if not commands or len(items) < len(commands) or not _explains(items):
            yield element
            n += 1
            continue
        yield element  # the example as written: the steps around the explained ones
        for command, item in zip(commands, items, strict=True):
            yield msgspec.structs.replace(element, text=command)
            yield item
        n += 1 + len(commands)
