"""The one BM25 encoding of chunks and questions, shared by every vector store adapter.

Qdrant Edge's encoder hashes stemmed, stop-word-free tokens into sparse ids and weighs a
document's terms by BM25's term-frequency part; the store's IDF modifier supplies the rest
at query time. Encoding on our side, for the server adapter too, keeps a chunk's sparse
vector identical wherever it is indexed.
"""

from __future__ import annotations

from qdrant_edge import Bm25, Bm25Config

from adapters.vectorstore.common import Sparse
from domain.models import Chunk

# BM25's average document length, in terms after stop words are dropped. It is fixed at
# encoding time, so it cannot be measured per corpus: a full chunk (~150 words) keeps about
# 100 terms, and last chunks of sections are shorter. Measured means: 77 terms per chunk on
# Cranfield, 106 on the generated manuals of bench/corpus.py (docs/benchmarks.md).
AVERAGE_TERMS = 80.0

_ENCODER = Bm25(Bm25Config(avg_len=AVERAGE_TERMS, language="english"))


def encode_chunk(chunk: Chunk) -> Sparse:
    vector = _ENCODER.embed_document(chunk.in_context())
    return Sparse(tuple(vector.indices), tuple(float(v) for v in vector.values))


def encode_question(text: str, *, counted: bool = True) -> Sparse:
    """The question's terms, each weighing as often as the question says it (BM25 as
    Lucene and bm25s score it: a long question that names its topic three times leans on
    it), or once each with `counted` off (the engine's own query encoding)."""
    vector = _ENCODER.embed_query(text)
    if not counted:
        return Sparse(tuple(vector.indices), tuple(float(v) for v in vector.values))
    # The engine's tokenizer splits at least where whitespace does, so word by word finds
    # the same terms, and how often each comes.
    counts = dict.fromkeys((int(i) for i in vector.indices), 0.0)
    for word in text.split():
        for index in _ENCODER.embed_query(word).indices:
            if int(index) in counts:
                counts[int(index)] += 1.0
    return Sparse(tuple(counts), tuple(max(1.0, n) for n in counts.values()))
