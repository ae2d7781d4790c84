"""A one-line progress bar for long runs: checks done, failures, elapsed time, the current framework and op.

Drawn on a terminal only (never into a file or a pipe), only once a run has
taken more than a couple of seconds, and redrawn a few times a second by a
background thread so the clock moves while a slow check (a first compile)
runs. Lines printed by the run go above it: call :meth:`clear` first.
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import IO, Callable

from conformance.results import FAILING

SPINNER = "|/-\\"


class Progress:
    """Counts records and draws one status line on ``stream``; does nothing unless enabled."""

    def __init__(self, stream: IO[str], enabled: bool, delay: float = 2.0, interval: float = 0.25,
                 clock: Callable[[], float] = time.monotonic):
        self.stream, self.enabled, self.delay, self.interval, self.clock = stream, enabled, delay, interval, clock
        self.start = clock()
        self.done = self.failed = 0
        self.current = ""
        self.shown = False
        self._frame = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_terminal(cls, stream: IO[str], quiet: bool) -> "Progress":
        """Return a progress bar that draws only when ``stream`` is a terminal and the run is not quiet."""
        isatty = getattr(stream, "isatty", None)
        return cls(stream, enabled=not quiet and bool(isatty and isatty()))

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._thread = threading.Thread(target=self._tick, name="conformance-progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=1)
        self.clear()

    def update(self, record: dict) -> None:
        """Count a finished record and note where the run is."""
        with self._lock:
            self.done += 1
            self.failed += record.get("status") in FAILING
            self.current = f"{record.get('framework')}: {record.get('op')}[{record.get('case')}] {record.get('dtype')}"

    def line(self) -> str:
        """Return the status line as it would be drawn now."""
        elapsed = self.clock() - self.start
        spin = SPINNER[self._frame % len(SPINNER)]
        failed = f", {self.failed} failing" if self.failed else ""
        text = f"{spin} {self.done} checks{failed}, {elapsed:.0f} s  {self.current}"
        width = shutil.get_terminal_size((100, 20)).columns - 1
        return text if len(text) <= width else text[: max(width - 1, 0)] + "…"

    def draw(self) -> None:
        """Draw the line now (once the delay has passed)."""
        if not self.enabled or self.clock() - self.start < self.delay:
            return
        with self._lock:
            self._frame += 1
            self.stream.write("\r\033[K" + self.line())
            self.stream.flush()
            self.shown = True

    def clear(self) -> None:
        """Erase the line, so other output starts on a clean line."""
        with self._lock:
            if self.shown:
                self.stream.write("\r\033[K")
                self.stream.flush()
                self.shown = False

    def _tick(self) -> None:
        while not self._stop.wait(self.interval):
            self.draw()
