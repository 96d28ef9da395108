"""A fair, re-entrant readers–writer lock: many matches at once, one index update at a time.

Fair: a waiting writer holds back new readers (so a stream of matches cannot starve an
update), and when a writer finishes, the readers that queued behind it go before the next
writer (so a stream of updates cannot starve matches). Re-entrant: a thread that holds the lock
(to read or to write) may take it again, for reading, without waiting — a handler that reads
inside a read never deadlocks behind a queued writer.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadWriteLock:
    """Readers share the lock; a writer excludes everyone."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._readers = 0
        self._readers_waiting = 0
        self._writing = False
        self._writers_waiting = 0
        self._readers_turn = False  # set when a writer leaves with readers queued
        self._held = threading.local()

    def _depth(self) -> int:
        return getattr(self._held, "depth", 0)

    @contextmanager
    def reading(self) -> Iterator[None]:
        if self._depth():  # already inside this lock on this thread
            self._held.depth += 1
            try:
                yield
            finally:
                self._held.depth -= 1
            return
        with self._condition:
            self._readers_waiting += 1
            while self._writing or (self._writers_waiting and not self._readers_turn):
                self._condition.wait()
            self._readers_waiting -= 1
            if not self._readers_waiting:
                self._readers_turn = False
            self._readers += 1
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            with self._condition:
                self._readers -= 1
                if not self._readers:
                    self._condition.notify_all()

    @contextmanager
    def writing(self) -> Iterator[None]:
        if self._depth():
            raise RuntimeError("cannot take the write lock while holding the lock")
        with self._condition:
            self._writers_waiting += 1
            while self._writing or self._readers or self._readers_turn:
                self._condition.wait()
            self._writers_waiting -= 1
            self._writing = True
        self._held.depth = 1
        try:
            yield
        finally:
            self._held.depth = 0
            with self._condition:
                self._writing = False
                self._readers_turn = self._readers_waiting > 0
                self._condition.notify_all()
