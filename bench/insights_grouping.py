"""Where "the same question" begins: cosine similarities of the local embedding model
(all-MiniLM-L6-v2) between paraphrases and between unrelated questions, and the groups the
unanswered-questions insight makes of them at its threshold.

    .venv/bin/python bench/insights_grouping.py          # writes docs/benchmarks.md

Questions a help desk would not answer from its documents: four topics asked in several
wordings, and six questions on other things; the threshold (application/insights.py:
SAME_MEANING) must sit between the lowest paraphrase and the highest unrelated pair.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import platform
import sys
from datetime import UTC, datetime

from chat_latency import ROOT, write_doc

sys.path.insert(0, str(ROOT))
from adapters.embeddings.onnx import OnnxEmbedder
from application.insights import SAME_MEANING
from domain.grouping import group_by_similarity

COMMAND = ".venv/bin/python bench/insights_grouping.py"
TOPICS = {
    "password": [
        "How do I reset my password?",
        "I forgot my password, how can I change it?",
        "password reset",
    ],
    "paypal": ["Can I pay with PayPal?", "Do you accept PayPal?"],
    "canada": ["Do you ship to Canada?", "Can you deliver to Toronto?"],
    "hours": ["What are your opening hours?", "When is the store open on Sunday?"],
    "others": [
        "Which payment methods do you take?",
        "international shipping costs",
        "Is there a student discount?",
        "Do you have gift cards?",
        "How long does a refund take?",
        "Where is my order?",
    ],
}


def cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    norm = (sum(x * x for x in a) * sum(y * y for y in b)) ** 0.5
    return dot / norm


async def main() -> None:
    embedder = OnnxEmbedder()
    questions = [(topic, q) for topic, qs in TOPICS.items() for q in qs]
    vectors = await embedder.embed([q for _, q in questions])
    same, different = [], []
    for (i, (ti, _)), (j, (tj, _)) in itertools.combinations(enumerate(questions), 2):
        similarity = cosine(vectors[i], vectors[j])
        paraphrase = ti == tj and ti != "others"
        (same if paraphrase else different).append((similarity, i, j))
    groups = group_by_similarity(vectors, [1] * len(questions), SAME_MEANING)
    grouped = [[questions[i][1] for i in g] for g in groups if len(g) > 1]
    lowest, highest = min(same), max(different)
    text = "\n".join(
        [
            "## Unanswered questions: grouping by meaning",
            "",
            f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores; "
            f"Python {platform.python_version()}.",
            "",
            "```",
            COMMAND,
            "```",
            "",
            f"{len(questions)} questions a help desk could not answer, in {len(TOPICS) - 1} "
            "topics asked in several wordings and six questions on other things, embedded "
            "with all-MiniLM-L6-v2 (the local model). Cosine similarity:",
            "",
            "| pairs | count | lowest | highest |",
            "|---|---:|---:|---:|",
            f"| the same question, reworded | {len(same)} | {lowest[0]:.2f} | {max(same)[0]:.2f} |",
            f"| different questions | {len(different)} | {min(different)[0]:.2f} | "
            f"{highest[0]:.2f} |",
            "",
            f"The threshold, {SAME_MEANING}, sits between the lowest paraphrase pair "
            f"({questions[lowest[1]][1]!r} ~ {questions[lowest[2]][1]!r}) and the highest "
            f"unrelated one ({questions[highest[1]][1]!r} ~ {questions[highest[2]][1]!r}). "
            f"The groups it makes, besides the questions left alone: "
            + "; ".join(" / ".join(g) for g in grouped)
            + ".",
        ]
    )
    print(text)
    write_doc(text, name="insights_grouping")
    print("wrote docs/benchmarks.md")


if __name__ == "__main__":
    asyncio.run(main())
