"""What startup leaves on the heap, kept out of the garbage collector's full passes."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Collects once, then freezes every object alive.

    A full collection walks every tracked object, and the ~370k that importing and
    starting the service leave (modules, SDK types, the container) make one take ~0.2 s
    here: a stall of the event loop that every stream, and every Redis call under its
    50 ms timeout, would feel. They live as long as the process, so after a last
    collection they are frozen and later passes walk only what came after them
    (bench/gc_pauses.py). For a process that serves until it exits; tests that build many
    apps in one process do not freeze.
    """
    gc.collect()
    gc.freeze()
