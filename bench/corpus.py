"""A deterministic corpus of product manuals, and questions that retrieve from it.

Each document is one product with ten sections of at most 150 words, so the chunker
(≤200 tokens ≈ 153 words per chunk, one section never shares a chunk) makes exactly one
chunk per section.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

import httpx

SEED = 20240601
SECTION_WORDS = 150
BRANDS = (
    "Aurora", "Basalt", "Cobalt", "Dune", "Ember",
    "Fjord", "Granite", "Harbor", "Indigo", "Juniper",
)  # fmt: skip
PRODUCTS = (
    "kettle", "lantern", "bicycle", "backpack", "thermostat",
    "blender", "tent", "drone", "keyboard", "sewing machine",
)  # fmt: skip
MATERIALS = ("brushed steel", "bamboo", "recycled aluminium", "walnut", "ceramic", "carbon fibre")
COLOURS = ("slate grey", "forest green", "sand", "midnight blue", "copper", "ivory")
CITIES = ("Lisbon", "Tallinn", "Osaka", "Valparaíso", "Winnipeg", "Nairobi", "Ghent", "Hobart")
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")

# Per aspect: the section heading, sentence templates, and questions a visitor might ask.
ASPECTS: dict[str, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
    "overview": (
        "Overview",
        (
            "The {name} is made of {material} and comes in {colour}.",
            "Designers in {city} drew the first {name} sketches in {year}.",
            "It weighs {n} hundred grams, light enough to carry every day.",
            "Reviewers praise the {name} for its quiet {material} finish.",
            "Each {name} leaves our {city} workshop after a {n}-point inspection.",
        ),
        ("What is the {name} made of?", "Which colours does the {name} come in?"),
    ),
    "setup": (
        "Setup",
        (
            "To set up the {name}, unpack it and charge it for {n} hours before first use.",
            "Attach the {material} base, then press the power button for {n} seconds.",
            "The companion app pairs with the {name} over Bluetooth in under a minute.",
            "Installation needs no tools; the {colour} clips snap into place.",
            "Calibration runs automatically the first time the {name} is switched on.",
        ),
        ("How do I set up the {name}?", "How long should I charge the {name} before first use?"),
    ),
    "pricing": (
        "Pricing",
        (
            "The {name} costs {price} euros including VAT.",
            "Bundles with a spare {material} part cost {price2} euros.",
            "Students receive a {n}0 percent discount on the {name} with a valid card.",
            "Prices in {city} stores match the online price of {price} euros.",
            "Financing spreads the cost of the {name} over {n} monthly instalments.",
        ),
        ("How much does the {name} cost?", "Is there a student discount on the {name}?"),
    ),
    "warranty": (
        "Warranty",
        (
            "The {name} carries a {n}-year warranty against manufacturing defects.",
            "The warranty covers the {material} housing but not cosmetic scratches.",
            "Register the {name} online within {days} days to extend the warranty by a year.",
            "Warranty claims are handled by our service centre in {city}.",
            "A receipt or order number is enough to open a warranty claim.",
        ),
        ("How long is the warranty on the {name}?", "Where are {name} warranty claims handled?"),
    ),
    "shipping": (
        "Shipping",
        (
            "Orders of the {name} ship from {city} within {n} business days.",
            "Express delivery of the {name} costs {price_small} euros and arrives next day.",
            "Shipping is free for orders above {price} euros.",
            "Parcels are packed in recycled cardboard with {colour} tape.",
            "Tracking numbers are emailed as soon as the {name} leaves the warehouse.",
        ),
        ("How fast does the {name} ship?", "How much is express delivery for the {name}?"),
    ),
    "returns": (
        "Returns",
        (
            "You can return the {name} within {days} days for a full refund.",
            "Returned items must include the original {colour} packaging.",
            "Refunds reach your account {n} days after the {name} arrives back in {city}.",
            "Return labels are free for customers in the European Union.",
            "A used {name} can be exchanged for store credit instead of a refund.",
        ),
        ("Can I return the {name}?", "How long do refunds for the {name} take?"),
    ),
    "maintenance": (
        "Maintenance",
        (
            "Clean the {material} surface of the {name} with a damp cloth every {n} weeks.",
            "Descale or service the {name} twice a year to keep it running smoothly.",
            "Replacement filters and seals are sold in packs of {n}.",
            "Store the {name} somewhere dry, away from direct sunlight.",
            "Firmware updates for the {name} install overnight on {day}s.",
        ),
        ("How do I clean the {name}?", "When do firmware updates for the {name} install?"),
    ),
    "safety": (
        "Safety",
        (
            "Keep the {name} out of reach of children under {n} years old.",
            "The {name} switches itself off if it overheats past {temp} degrees Celsius.",
            "Never immerse the {name} in water while it is plugged in.",
            "The battery is certified to the {city} safety standard of {year}.",
            "Use only the supplied {colour} charger with the {name}.",
        ),
        ("Is the {name} safe for children?", "What happens if the {name} overheats?"),
    ),
    "troubleshooting": (
        "Troubleshooting",
        (
            "If the {name} does not turn on, hold the reset button for {n} seconds.",
            "A blinking {colour} light on the {name} means the battery is low.",
            "Error code E{n}{n} indicates a loose {material} connector.",
            "Restarting the companion app fixes most pairing problems with the {name}.",
            "If the fault persists, contact support with the serial number of your {name}.",
        ),
        (
            "The {name} will not turn on, what should I do?",
            "What does a blinking light on the {name} mean?",
        ),
    ),
    "support": (
        "Support",
        (
            "The {name} support line is open {day} to Friday from {hour} am.",
            "Our support team in {city} answers emails within {n} hours.",
            "Live chat for {name} owners runs on weekdays and on {day}s.",
            "Spare parts for the {name} are listed in the support portal.",
            "Video guides for the {name} are available in {n} languages.",
        ),
        ("When is {name} support open?", "How quickly does {name} support answer emails?"),
    ),
}  # fmt: skip
FILLER = (
    "Customers in {city} often mention how well it fits a small apartment.",
    "The {colour} edition was added after requests from our community.",
    "Our {material} supply comes from certified sustainable sources.",
    "Every unit is tested for {n} hours before it is boxed.",
    "The design team revisits this part of the product every {n} months.",
    "Feedback collected in {city} shaped the latest revision.",
    "The manual is printed on recycled paper with {colour} ink.",
    "Accessories share the same {material} look as the main unit.",
)


@dataclass(frozen=True)
class Document:
    title: str
    text: str


def product_names() -> list[str]:
    return [f"{brand} {product}" for product in PRODUCTS for brand in BRANDS]


def _slots(rng: random.Random, name: str) -> dict[str, object]:
    price = rng.randrange(40, 900)
    return {
        "name": name,
        "material": rng.choice(MATERIALS),
        "colour": rng.choice(COLOURS),
        "city": rng.choice(CITIES),
        "day": rng.choice(DAYS),
        "year": rng.randrange(1990, 2024),
        "n": rng.randrange(2, 9),
        "days": rng.choice((14, 30, 60, 90)),
        "price": price,
        "price2": price + rng.randrange(10, 80),
        "price_small": rng.randrange(5, 25),
        "temp": rng.randrange(60, 95),
        "hour": rng.randrange(7, 10),
    }


def _section(rng: random.Random, name: str, templates: tuple[str, ...]) -> str:
    """The aspect's own sentences first, then filler, up to SECTION_WORDS words."""
    slots = _slots(rng, name)
    pool = list(templates) + rng.sample(FILLER, len(FILLER))
    sentences: list[str] = []
    words = 0
    while pool:
        sentence = pool.pop(0).format(**slots)
        if words + len(sentence.split()) > SECTION_WORDS:
            break
        sentences.append(sentence)
        words += len(sentence.split())
        if not pool:  # short on material: go round again with fresh numbers
            slots = _slots(rng, name)
            pool = rng.sample(FILLER, len(FILLER)) + list(templates)
    return " ".join(sentences)


def documents(count: int) -> list[Document]:
    rng = random.Random(SEED)
    docs = []
    for name in product_names()[:count]:
        parts = [f"# {name}"]
        for heading, templates, _ in ASPECTS.values():
            parts.append(f"## {heading}\n\n{_section(rng, name, templates)}")
        docs.append(Document(title=f"{name} manual", text="\n\n".join(parts)))
    return docs


def questions(documents_count: int, count: int) -> list[str]:
    """Varied questions about the first `documents_count` products, in a fixed order."""
    rng = random.Random(SEED + 1)
    names = product_names()[:documents_count]
    templates = [q for _, _, qs in ASPECTS.values() for q in qs]
    pool = sorted({t.format(name=name) for name in names for t in templates})
    return rng.sample(pool, min(count, len(pool)))


def ingest(client: httpx.Client, widget_id: str, count: int, timeout: float = 900.0) -> int:
    """Submits `count` generated manuals through the service's API and waits until every
    one is ready; returns the chunks the service made of them."""
    for doc in documents(count):
        body = {"widget_id": widget_id, "title": doc.title, "text": doc.text}
        client.post("/api/widget/process-document", json=body).raise_for_status()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        listed = client.get("/api/widget/documents", params={"widget_id": widget_id})
        statuses = listed.raise_for_status().json()["documents"]
        failed = [d for d in statuses if d["status"] == "failed"]
        if failed:
            raise RuntimeError(f"{len(failed)} documents failed, e.g. {failed[0]['error']}")
        if len(statuses) == count and all(d["status"] == "ready" for d in statuses):
            return sum(d["chunk_count"] for d in statuses)
        time.sleep(0.3)
    raise RuntimeError("documents were not all ready in time")
