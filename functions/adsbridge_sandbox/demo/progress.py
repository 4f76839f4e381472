"""Progress lines and bars on stderr, so stdout keeps only the results (tables, report) and can be piped."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Progress:
    """Announces steps and draws a bar for long ones; a bar redraws in place only on a terminal."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self._started = time.monotonic()

    def step(self, message: str) -> None:
        self.stream.write(f"[{time.monotonic() - self._started:6.1f}s] {message}\n")
        self.stream.flush()

    def bar(self, label: str, done: int, total: int) -> None:
        """Redrawn in place on a terminal; elsewhere (CI logs) only the finished bar is written."""
        if not self.tty and done < total:
            return
        filled = WIDTH * done // max(total, 1)
        line = f"  {label} [{'#' * filled}{'.' * (WIDTH - filled)}] {done:,}/{total:,}"
        self.stream.write(("\r" if self.tty else "") + line + ("\n" if done >= total else ""))
        self.stream.flush()
