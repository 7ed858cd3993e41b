"""Progress lines for long commands (demo, imports, simulation), so a clerk sees it moving."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol


class Writable(Protocol):
    def write(self, text: str, /) -> object: ...

    def flush(self) -> object: ...


class Progress:
    def __init__(self, out: Writable | None = None) -> None:
        self.out: Writable = out or sys.stdout
        self.started = time.monotonic()

    def step(self, message: str) -> None:
        elapsed = time.monotonic() - self.started
        self.out.write(f"[{elapsed:6.1f}s] {message}\n")
        self.out.flush()

    @contextmanager
    def stage(self, message: str) -> Iterator[None]:
        begin = time.monotonic()
        self.step(f"{message} …")
        yield
        self.step(f"{message} 完成（{time.monotonic() - begin:.1f}s）")
