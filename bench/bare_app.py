"""The baseline: a bare Litestar app with one POST JSON endpoint, served like the service.

`granian --interface asgi --working-dir bench bare_app:app`
"""

from __future__ import annotations

import msgspec
from litestar import Litestar, post


class Body(msgspec.Struct, frozen=True):
    message: str


@post("/echo", status_code=200)
async def echo(data: Body) -> dict[str, str]:
    return {"echo": data.message, "status": "ok"}


app = Litestar(route_handlers=[echo], logging_config=None, debug=False)
