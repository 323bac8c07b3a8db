"""The bomb corpus of tests/contract/test_parser_bombs.py, run in a fresh interpreter:
`python -m tests.support.bomb_corpus budget_mb WAIT_SECONDS` prints one JSON line with
each document's outcome, the parser children seen (memory cap, headroom) and their peak
resident size once they have all exited."""

import asyncio
import json
import multiprocessing
import resource
import sys
import time
import tracemalloc

from adapters.parsing import content_types as ct
from adapters.parsing.limits import ParseLimits
from adapters.parsing.parser_by_type import ParserByType
from domain.errors import ParseError
from tests.support.bombs import big_csv, big_text, flate_bomb_pdf, many_part_docx


def children():
    # Each live parser child: its memory cap, how far below it the child is now, and the
    # resident pages the cap does not count (mapped files: the libraries' code and data).
    found = {}
    for child in multiprocessing.active_children():
        if child.name.startswith("pebble"):
            cap = resource.prlimit(child.pid, resource.RLIMIT_DATA)[0]
            with open(f"/proc/{child.pid}/status") as status:
                kib = {
                    key: int(value.split()[0]) * 1024
                    for key, value in (line.split(":", 1) for line in status)
                    if key in ("VmData", "RssFile", "RssShmem")
                }
            found[child.pid] = {
                "cap": cap,
                "headroom": cap - kib["VmData"],
                "mapped_files": kib["RssFile"] + kib["RssShmem"],
            }
    return found


async def run(parser, name, content, content_type, wait):
    started = time.monotonic()
    try:
        elements = await asyncio.wait_for(parser.parse(content, content_type), wait)
        outcome, reason = "parsed", len(elements)
    except ParseError as error:
        outcome, reason = "failed", error.message
    except TimeoutError:
        outcome, reason = "no outcome", f"still parsing after {wait} s"
    return {
        "name": name,
        "outcome": outcome,
        "reason": reason,
        "seconds": round(time.monotonic() - started, 2),
    }


async def main(budget_mb: int, wait: float) -> None:
    results, caps = [], {}
    parser = ParserByType(ParseLimits(max_memory_mb=budget_mb))
    text_peaks = []
    for seed in (1, 2):
        text = big_text(seed)
        tracemalloc.start()  # what the in-process parse allocates, the text aside
        results.append(await run(parser, f"text{seed}", text, ct.PLAIN, wait))
        text_peaks.append(tracemalloc.get_traced_memory()[1] / len(text))
        tracemalloc.stop()
    child_after_texts = parser.child_started
    # A flate bomb as it would be parsed without the inflation check, alone in its parser.
    lenient = ParserByType(
        ParseLimits(max_memory_mb=budget_mb, max_unzipped_mb=4096, max_zip_ratio=10**6)
    )
    corpus = [
        (lenient, "flate-bomb-pdf-past-the-inflation-check", flate_bomb_pdf(), ct.PDF),
        (parser, "flate-bomb-pdf", flate_bomb_pdf(), ct.PDF),
        (parser, "many-part-docx", many_part_docx(), ct.DOCX),
        (parser, "csv1", big_csv(1), ct.CSV),
        (parser, "csv2", big_csv(2), ct.CSV),
    ]
    for chosen, name, content, content_type in corpus:
        await chosen.warm_up()  # the bomb meets a warm child: its own seconds are counted
        live = children()
        caps.update(live)
        result = await run(chosen, name, content, content_type, wait)
        result["children"] = live
        results.append(result)
        if chosen is lenient:
            lenient.close()
    await parser.warm_up()
    caps.update(children())
    after = await run(parser, "after", b"<p>The widget answers questions.</p>", ct.HTML, wait)
    parser.close()
    print(
        json.dumps(
            {
                "results": results,
                "after": after,
                "caps": caps,
                "child_after_texts": child_after_texts,
                "text_peak_ratio": max(text_peaks),
                "children_peak_rss": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024,
            }
        )
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]), float(sys.argv[2])))
