"""What a visitor reads when the site owner uploads a real PDF manual: the gnuplot 5.4
manual (311 pages, typeset with LaTeX: running titles, page numbers, a table of contents,
tables and code), from Debian's gnuplot-doc, which the bench downloads with `apt-get
download` and extracts.

The PDF goes through SubmitDocument and ProcessDocument (the unstructured parser in its
child process, the chunker, the local embedder, Qdrant Edge) into a widget of its own, and
each question of QUESTIONS is asked through AnswerQuestion with the extractive answerer.
Counted: the answer states the fact (one of its phrase sets, case and spacing aside), and
the fact is in the sources handed to a model (the ceiling for an LLM). The first twelve
questions were asked while the PDF reading rules of 2026-12-06 were written (seen); the
last eight were written after, and asked once (unseen). No rule was chosen on answers.

    .venv/bin/python bench/pdf_eval.py [--show] [--no-doc] [--prompts FILE]

With --prompts, each question's prompt is written to FILE too, for bench/answer_replay.py.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
from answer_eval import (
    CACHE,
    Service,
    answers_arguments,
    ask,
    build_service,
    debian_tree,
    states,
)
from retrieval_eval import heading, publish

from application.ingestion.processing import ProcessDocument
from application.ingestion.submission import NewDocument, SubmitDocument
from domain.models import Widget
from domain.prompts import Prompt
from testkit.entities import a_widget

PACKAGE, PDF = "gnuplot-doc", "usr/share/doc/gnuplot/gnuplot.pdf"
SEEN = 12


@dataclass(frozen=True)
class Question:
    text: str
    # The answer states the fact when it holds every phrase of one of these sets.
    phrases: tuple[tuple[str, ...], ...]


QUESTIONS = [
    Question("How do I set the title of the plot?", (("set title",),)),
    Question("How do I save a plot as a PNG file?", (("png", "set output"),)),
    Question("How do I use a logarithmic scale on the y axis?", (("logscale y",),)),
    Question("How do I plot columns 1 and 3 of a data file?", (("using 1:3",),)),
    Question("How do I set the range of the x axis?", (("set xrange",),)),
    Question("How do I turn off the key?", (("unset key",), ("key off",))),
    Question("What does the replot command do?", (("repeats the last",), ("last plot",))),
    Question("How do I fit a function to data?", (("via",),)),
    Question("How do I add a grid to the plot?", (("set grid",),)),
    Question("How do I plot with lines and points?", (("linespoints",),)),
    Question("How do I change the size of the PNG image?", (("size",),)),
    Question("What is the default number of samples?", (("100",),)),
    # unseen
    Question("How do I make a 3D surface plot?", (("splot",),)),
    Question("How do I put a label at a point on the graph?", (("set label",),)),
    Question("How do I set the tick marks on the x axis?", (("set xtics",),)),
    Question("How do I plot a histogram?", (("histograms",),)),
    Question("How do I draw an arrow on the plot?", (("set arrow",),)),
    Question("How do I set the font of the title?", (("font",),)),
    Question("How do I read a CSV file with commas as separators?", (("separator",),)),
    Question("How do I make the plot in polar coordinates?", (("set polar",),)),
]


@dataclass(frozen=True)
class Outcome:
    question: Question
    answer: str
    stated: bool
    in_sources: bool
    cited: tuple[str, ...]  # the sections of the first three sources
    prompt: Prompt | None = None


@dataclass(frozen=True)
class Run:
    package: str
    chunks: int
    seconds: float
    outcomes: list[Outcome]


def holds(text: str, phrases: tuple[tuple[str, ...], ...]) -> bool:
    return any(states(text, alternative) for alternative in phrases)


async def ingest(service: Service, name: str, content: bytes) -> tuple[Widget, int]:
    widget = a_widget(name="gnuplot manual")
    await service.app.widgets.add(widget)
    await service.get(SubmitDocument)(
        NewDocument(
            widget_id=widget.id,
            title=name,
            content=content,
            content_type="application/pdf",
        )
    )
    process = service.get(ProcessDocument)
    while await process.next_job():
        pass
    [document] = await service.app.documents.list_for_widget(widget.id)
    if document.chunk_count == 0:
        raise SystemExit(f"the manual was not processed: {document.status} {document.error}")
    return widget, document.chunk_count


async def run(cache: Path) -> Run:
    package, tree = debian_tree(PACKAGE, cache)
    with tempfile.TemporaryDirectory(prefix="chatconnect-pdf-") as work:
        service = build_service(Path(work))
        try:
            started = time.perf_counter()
            pdf = tree / PDF
            widget, chunks = await ingest(service, pdf.name, pdf.read_bytes())
            seconds = time.perf_counter() - started
            outcomes = []
            for q in QUESTIONS:
                asked = await ask(service, widget, q.text)
                sources = " ".join(s.text for s in asked.prompt.sources) if asked.prompt else ""
                outcomes.append(
                    Outcome(
                        q,
                        asked.answer.answer,
                        holds(asked.answer.answer, q.phrases),
                        holds(sources, q.phrases),
                        tuple(s.section or "" for s in asked.answer.sources[:3]),
                        asked.prompt,
                    )
                )
            return Run(package, chunks, seconds, outcomes)
        finally:
            await service.close()


def render(r: Run, seconds: float) -> str:
    lines = heading("Answers from a real PDF manual", ".venv/bin/python bench/pdf_eval.py", seconds)
    seen, unseen = r.outcomes[:SEEN], r.outcomes[SEEN:]
    lines += [
        f"The gnuplot 5.4 manual ({PDF} of {r.package}: 311 pages typeset with LaTeX, running "
        "titles, page numbers, a table of contents, tables and code) uploaded as one PDF, "
        f"{r.chunks} chunks in {r.seconds:.0f} s (parse, embed, index); "
        f"{len(QUESTIONS)} questions a gnuplot user asks, through AnswerQuestion with the "
        "extractive answerer. The first twelve were asked while the PDF reading rules were "
        "written (no rule was chosen on answers); the last eight were written after.",
        "",
        "| questions | fact stated (offline answer) | fact in the sources handed to a model |",
        "|---|---:|---:|",
    ]
    for name, group in (("seen", seen), ("unseen", unseen), ("all", r.outcomes)):
        lines.append(
            f"| {name} ({len(group)}) | {sum(o.stated for o in group)} "
            f"| {sum(o.in_sources for o in group)} |"
        )
    lines += ["", "Each answer's first cited sections, and the misses:", ""]
    for o in r.outcomes:
        mark = "stated" if o.stated else "in the sources" if o.in_sources else "missed"
        lines.append(f"- '{o.question.text}' ({mark}): {' | '.join(o.cited)}")
    return "\n".join(lines)


def main() -> None:
    parser = answers_arguments(__doc__)
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the package is kept")
    parser.add_argument(
        "--prompts", type=Path, help="also write each question's prompt here (JSON), to study"
    )
    args = parser.parse_args()
    started = time.monotonic()
    result = asyncio.run(run(args.cache))
    if args.prompts:
        args.prompts.write_bytes(
            msgspec.json.encode(
                [
                    {
                        "half": "seen" if n < SEEN else "unseen",
                        "question": o.question,
                        "prompt": o.prompt,
                    }
                    for n, o in enumerate(result.outcomes)
                ]
            )
        )
    if args.show:
        for o in result.outcomes:
            print(f"{'OK' if o.stated else '--'} {o.question.text}\n    {o.answer}")
    publish(render(result, time.monotonic() - started), "pdf_eval", not args.no_doc)


if __name__ == "__main__":
    main()
