from __future__ import annotations

from dishka import Provider, Scope, provide

from adapters.system.clock import SystemClock
from adapters.system.ids import RandomIds
from application.ports.system import Clock, IdGenerator


class SystemProvider(Provider):
    scope = Scope.APP
    clock = provide(SystemClock, provides=Clock)
    ids = provide(RandomIds, provides=IdGenerator)
