from __future__ import annotations

import secrets
import uuid


class RandomIds:
    def new_id(self) -> uuid.UUID:
        return uuid.uuid4()

    def new_key(self) -> str:
        # Public (it ships in the page), but unguessable so widgets cannot be enumerated.
        return "wk_" + secrets.token_urlsafe(24)
