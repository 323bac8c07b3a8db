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


def encode_question(text: str) -> Sparse:
    vector = _ENCODER.embed_query(text)
    return Sparse(tuple(vector.indices), tuple(float(v) for v in vector.values))
