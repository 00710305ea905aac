"""Support for bulk work over millions of records."""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for the duration of a bulk read or write.

    Parsing and validating a million-node file makes millions of containers and no cycles; the
    collector's repeated passes over them cost more the bigger the heap grows (a third of a load
    at 100,000 nodes, more at a million). Reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
