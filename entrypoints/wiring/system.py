from __future__ import annotations

from dishka import Provider, Scope, provide

from adapters.spelling.edits import EditDistanceSpelling
from adapters.system.clock import SystemClock
from adapters.system.ids import RandomIds
from application.ports.spelling import Spelling
from application.ports.system import Clock, IdGenerator


class SystemProvider(Provider):
    scope = Scope.APP
    clock = provide(SystemClock, provides=Clock)
    ids = provide(RandomIds, provides=IdGenerator)
    spelling = provide(EditDistanceSpelling, provides=Spelling)
