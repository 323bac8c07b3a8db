"""A chunk is embedded and BM25-encoded with its document's title and section heading:
its text alone is often silent on the very name a question asks about."""

from __future__ import annotations

import msgspec

from adapters.vectorstore.sparse import encode_chunk
from testkit.fakes.core import FakeApp
from tests.unit.conftest import add_document, make_widget


async def test_the_embedder_sees_the_title_and_section_with_the_text(app: FakeApp) -> None:
    widget = await make_widget(app)

    await add_document(app, widget, "# Cleaning\n\nDescale it every 60 days.", title="Kestrel 9")

    [embedded] = app.embedder.calls[-1]
    assert embedded.splitlines() == ["Kestrel 9", "Cleaning", "Descale it every 60 days."]


async def test_bm25_sees_the_same_text_as_the_embedder(app: FakeApp) -> None:
    widget = await make_widget(app)
    await add_document(app, widget, "# Cleaning\n\nDescale it every 60 days.", title="Kestrel 9")
    [(chunk, _, sparse)] = app.vectors.points.values()

    assert chunk.in_context() == app.embedder.calls[-1][0]
    assert encode_chunk(chunk) == sparse
    bare = msgspec.structs.replace(chunk, title="", section=None)
    assert len(sparse.indices) > len(encode_chunk(bare).indices)
