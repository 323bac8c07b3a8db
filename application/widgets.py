"""Managing widgets, and recognising the widget behind a visitor's request."""

from __future__ import annotations

import re
from uuid import UUID

import msgspec

from application.best_effort import ReadThrough
from application.paging import Page, Position, decode_cursor, page_limit, paged
from application.ports.caching import Cache
from application.ports.models import ChatModelRouter
from application.ports.storage import DocumentRepository, WidgetRepository
from application.ports.system import Clock, IdGenerator
from application.ports.telemetry import Telemetry
from application.ports.vectors import VectorStore
from application.widget_config import checked_display
from domain.errors import (
    AuthenticationError,
    InvalidInputError,
    OriginNotAllowedError,
    WidgetNotFoundError,
)
from domain.models import (
    MAX_PER_MINUTE,
    MAX_RETENTION_DAYS,
    MAX_TOP_K,
    Widget,
    WidgetSettings,
    WidgetSpec,
)
from domain.origins import OriginError, allowed_origin, is_serialized_origin

# A change to a widget: any of its settings, each left UNSET keeping its value. Built from
# WidgetSettings so that a new setting is declared in one place only.
WidgetChanges: type[msgspec.Struct] = msgspec.defstruct(
    "WidgetChanges",
    [
        (field.name, field.type | msgspec.UnsetType, msgspec.UNSET)
        for field in msgspec.structs.fields(WidgetSettings)
    ],
    frozen=True,
    kw_only=True,
    module=__name__,
)


def _validate(widget: Widget) -> Widget:
    if not widget.tenant_id.strip():
        raise InvalidInputError("tenant_id must not be empty", details={"field": "tenant_id"})
    if not widget.name.strip():
        raise InvalidInputError("name must not be empty", details={"field": "name"})
    if not 1 <= widget.top_k <= MAX_TOP_K:
        raise InvalidInputError(
            f"top_k must be between 1 and {MAX_TOP_K}", details={"field": "top_k"}
        )
    for field in ("visitor_limit_per_minute", "widget_limit_per_minute"):
        limit = getattr(widget, field)
        if limit is not None and not 1 <= limit <= MAX_PER_MINUTE:
            raise InvalidInputError(
                f"{field} must be between 1 and {MAX_PER_MINUTE}", details={"field": field}
            )
    for spec in widget.models:
        if not MODEL_SPEC.match(spec):
            raise InvalidInputError(
                f"model {spec!r} must be 'extractive' or 'provider:model'",
                details={"field": "models"},
            )
    if widget.retention_days is not None and not 1 <= widget.retention_days <= MAX_RETENTION_DAYS:
        raise InvalidInputError(
            f"retention_days must be between 1 and {MAX_RETENTION_DAYS}",
            details={"field": "retention_days"},
        )
    origins: list[str] = []
    for index, value in enumerate(widget.allowed_origins):
        try:
            origin = allowed_origin(value)
        except OriginError as error:
            raise InvalidInputError(
                f"allowed_origins[{index}]: {error}",
                details={"field": "allowed_origins", "index": index, "value": value},
            ) from error
        if origin not in origins:
            origins.append(origin)
    return checked_display(msgspec.structs.replace(widget, allowed_origins=tuple(origins)))


def _check_models(specs: tuple[str, ...], models: ChatModelRouter) -> None:
    """Each model a widget names must be one this service can call: a typo or a provider
    without its key would otherwise be skipped at every answer, silently."""
    for index, spec in enumerate(specs):
        reason = models.unusable(spec)
        if reason is not None:
            raise InvalidInputError(
                f"models[{index}] {spec!r} cannot be used here: {reason}",
                details={"field": "models", "index": index, "value": spec},
            )


class CreateWidget:
    def __init__(
        self, widgets: WidgetRepository, models: ChatModelRouter, clock: Clock, ids: IdGenerator
    ) -> None:
        self._widgets = widgets
        self._models = models
        self._clock = clock
        self._ids = ids

    async def __call__(self, spec: WidgetSpec) -> Widget:
        now = self._clock.now()
        widget = _validate(
            Widget(
                id=self._ids.new_id(),
                public_key=self._ids.new_key(),
                created_at=now,
                updated_at=now,
                **msgspec.structs.asdict(spec),
            )
        )
        _check_models(widget.models, self._models)
        await self._widgets.add(widget)
        return widget


class GetWidget:
    def __init__(self, widgets: WidgetRepository) -> None:
        self._widgets = widgets

    async def __call__(self, widget_id: UUID) -> Widget:
        widget = await self._widgets.get(widget_id)
        if widget is None:
            raise WidgetNotFoundError(f"widget {widget_id} not found")
        return widget


class ListWidgets:
    """A tenant's widgets, oldest first, a page at a time."""

    def __init__(self, widgets: WidgetRepository) -> None:
        self._widgets = widgets

    async def __call__(
        self, tenant_id: str, cursor: str | None = None, limit: int | None = None
    ) -> Page[Widget]:
        if not tenant_id.strip():
            raise InvalidInputError("tenant_id is required", details={"parameter": "tenant_id"})
        count = page_limit(limit)
        rows = await self._widgets.list_for_tenant(tenant_id, decode_cursor(cursor), count + 1)
        return paged(rows, count, lambda w: Position(w.created_at, w.id))


class UpdateWidget:
    def __init__(
        self,
        widgets: WidgetRepository,
        models: ChatModelRouter,
        lookup: WidgetLookup,
        clock: Clock,
    ) -> None:
        self._widgets = widgets
        self._models = models
        self._lookup = lookup
        self._clock = clock

    async def __call__(self, widget_id: UUID, changes: msgspec.Struct) -> Widget:
        widget = await GetWidget(self._widgets)(widget_id)
        given = {
            name: value
            for name, value in msgspec.structs.asdict(changes).items()
            if value is not msgspec.UNSET
        }
        updated = _validate(msgspec.structs.replace(widget, updated_at=self._clock.now(), **given))
        if "models" in given:  # a chain set earlier stays, though its key may be gone since
            _check_models(updated.models, self._models)
        await self._widgets.update(updated)
        await self._lookup.forget(updated)
        return updated


class DeleteWidget:
    def __init__(
        self,
        widgets: WidgetRepository,
        documents: DocumentRepository,
        vectors: VectorStore,
        lookup: WidgetLookup,
    ) -> None:
        self._widgets = widgets
        self._documents = documents
        self._vectors = vectors
        self._lookup = lookup

    async def __call__(self, widget_id: UUID) -> None:
        widget = await GetWidget(self._widgets)(widget_id)
        await self._lookup.forget(widget)
        # Chunks first: a widget row without chunks is harmless, chunks without a widget leak.
        await self._vectors.delete_widget(widget_id)
        for document in await self._documents.list_for_widget(widget_id):
            await self._documents.delete(document.id)
        await self._widgets.delete(widget_id)


MODEL_SPEC = re.compile(r"^(extractive|[a-z][a-z0-9_-]*:\S+)$")
# Every chat reads its widget; a change reaches other API instances within this time.
WIDGET_TTL_SECONDS = 30.0


class WidgetLookup:
    """Widgets by public key, read through the cache; changes forget the cached copy."""

    def __init__(self, widgets: WidgetRepository, cache: Cache, telemetry: Telemetry) -> None:
        self._widgets = widgets
        self._cached = ReadThrough(cache, telemetry, "widget", WIDGET_TTL_SECONDS)
        self._encode = msgspec.msgpack.Encoder().encode
        self._decode = msgspec.msgpack.Decoder(Widget).decode

    async def by_key(self, public_key: str) -> Widget | None:
        async def load() -> Widget | None:
            return await self._widgets.get_by_public_key(public_key)

        return await self._cached.get(f"widget:{public_key}", load, self._encode, self._decode)

    async def forget(self, widget: Widget) -> None:
        await self._cached.forget(f"widget:{widget.public_key}")


class AuthorizeVisitor:
    """The widget a browser speaks for, from its public key and Origin header."""

    def __init__(self, lookup: WidgetLookup) -> None:
        self._lookup = lookup

    async def __call__(self, public_key: str | None, origin: str | None) -> Widget:
        if not public_key:
            raise AuthenticationError("missing X-Widget-Key header")
        widget = await self._lookup.by_key(public_key)
        if widget is None:
            raise AuthenticationError("unknown widget key")
        if origin is not None and not widget.allows_origin(origin):
            if not is_serialized_origin(origin):
                raise OriginNotAllowedError(
                    f"origin {origin!r} is not an origin a browser sends (scheme://host[:port])"
                )
            raise OriginNotAllowedError(f"origin {origin} is not allowed for this widget")
        return widget
