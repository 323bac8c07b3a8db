"""The prompts a bench saved, answered again by the offline answerer as the code has it now:
how a change to adapters/llm/ moves the answers, in seconds, with nothing ingested or
searched again. The prompts come from `--prompts FILE` of bench/answer_eval.py (the
manuals) or bench/pdf_eval.py (the gnuplot PDF); the answerer is the one the service builds
offline, on the local embedding model.

Prints the facts stated by half; with --against, the answers of an earlier replay
(--save), each answer that changed, marked GAIN or LOSS when its fact came or went.

    .venv/bin/python bench/answer_replay.py PROMPTS [--save FILE] [--against FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import msgspec
import pdf_eval
from answer_eval import states

from adapters.embeddings.onnx import OnnxEmbedder
from adapters.llm.extractive import ExtractiveChatModel
from domain.prompts import Prompt


class Replayed(msgspec.Struct, frozen=True):
    half: str
    question: str
    stated: bool
    answer: str


def holds(answer: str, phrases: Sequence[Any]) -> bool:
    """answer_eval's phrases must all be said; pdf_eval's are sets, one of which must be."""
    if phrases and not isinstance(phrases[0], str):
        return pdf_eval.holds(answer, phrases)
    return states(answer, phrases)


def question_of(saved: Any) -> tuple[str, Sequence[Any]]:
    """answer_eval saves a question as [text, page, phrases]; pdf_eval as an object."""
    if isinstance(saved, dict):
        return saved["text"], saved["phrases"]
    return saved[0], saved[2]


async def replay(saved: list[dict[str, Any]]) -> list[Replayed]:
    embedder = OnnxEmbedder()
    model = ExtractiveChatModel(embedder)
    try:
        answers = []
        for item in saved:
            text, phrases = question_of(item["question"])
            if item["prompt"] is None:  # refused before a model was asked
                continue
            prompt = msgspec.convert(item["prompt"], Prompt)
            said = "".join([x async for x in model.stream(prompt) if isinstance(x, str)])
            answers.append(Replayed(item["half"], text, holds(said, phrases), said))
        return answers
    finally:
        embedder.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("prompts", type=Path, help="a file a bench's --prompts wrote")
    parser.add_argument("--save", type=Path, help="write these answers here (JSON)")
    parser.add_argument("--against", type=Path, help="answers an earlier replay saved")
    args = parser.parse_args()
    answers = asyncio.run(replay(msgspec.json.decode(args.prompts.read_bytes())))
    halves: dict[str, list[bool]] = {}
    for a in answers:
        halves.setdefault(a.half, []).append(a.stated)
    for half, stated in halves.items():
        print(f"{half}: fact stated {sum(stated)}/{len(stated)}")
    if args.against:
        before = {
            a.question: a
            for a in msgspec.json.decode(args.against.read_bytes(), type=list[Replayed])
        }
        for a in answers:
            was = before.get(a.question)
            if was is None or was.answer == a.answer:
                continue
            mark = "GAIN" if a.stated > was.stated else "LOSS" if a.stated < was.stated else "same"
            print(f"{mark} [{a.half}] {a.question}\n   was: {was.answer}\n   now: {a.answer}")
    if args.save:
        args.save.write_bytes(msgspec.json.encode(answers))


if __name__ == "__main__":
    main()
