"""The demo's voice: numbered steps, indented explanations, measured results, and while it
waits a progress line that rewrites itself (only on a terminal: a log or a pipe gets plain
lines and no carriage returns)."""

from __future__ import annotations

import sys
import textwrap
import time
from collections.abc import Callable
from typing import TextIO, TypeVar

T = TypeVar("T")
WIDTH = 88
SPIN = "|/-\\"


class Narrator:
    def __init__(self, out: TextIO = sys.stdout, steps: int = 0) -> None:
        self.out = out
        self.tty = out.isatty()
        self.steps = steps
        self.step_no = 0
        self._progress = False

    def _write(self, text: str) -> None:
        self.clear()
        self.out.write(text + "\n")
        self.out.flush()

    def title(self, text: str) -> None:
        self._write(("\033[1m" + text + "\033[0m") if self.tty else text)

    def step(self, text: str) -> None:
        self.step_no += 1
        head = f"[{self.step_no}/{self.steps}] {text}"
        self._write("\n" + (("\033[1m" + head + "\033[0m") if self.tty else head))

    def say(self, text: str) -> None:
        """An explanation, wrapped and indented under the step."""
        self._write(textwrap.fill(" ".join(text.split()), WIDTH, initial_indent="      ",
                                  subsequent_indent="      "))

    def result(self, text: str) -> None:
        """A measured fact: stands out from the explanations."""
        self._write("   => " + text)

    def raw(self, text: str) -> None:
        self._write(text)

    def clear(self) -> None:
        if self._progress:
            self.out.write("\r\033[K")
            self._progress = False

    def progress(self, text: str) -> None:
        if self.tty:
            self.out.write("\r\033[K" + text[: WIDTH + 6])
            self.out.flush()
            self._progress = True

    def wait(self, what: str, pred: Callable[[], T], timeout: float,
             detail: Callable[[], str] | None = None, step: float = 0.05) -> tuple[T | None, float]:
        """Poll `pred` until it returns something true or `timeout` s pass, showing
        `what`, the time spent and `detail()` on the progress line; returns (value, seconds)."""
        t0 = time.monotonic()
        n = 0
        while True:
            value = pred()
            waited = time.monotonic() - t0
            if value or waited >= timeout:
                self.clear()
                return (value or None), waited
            extra = f"  {detail()}" if detail else ""
            self.progress(f"   {SPIN[n % 4]} {what}: {waited:4.1f} s{extra}")
            n += 1
            time.sleep(step)
