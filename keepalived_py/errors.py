"""The project's own exception types: callers catch these, never library internals."""

from __future__ import annotations

from typing import NamedTuple


class SourcePos(NamedTuple):
    """Where something came from in the configuration: file, 1-based line and column.

    A NamedTuple: every statement of a large configuration carries one.
    """

    file: str
    line: int
    column: int = 0

    def __str__(self) -> str:
        if self.column:
            return f"{self.file}:{self.line}:{self.column}"
        return f"{self.file}:{self.line}"


class KeepalivedPyError(Exception):
    """Base of every error keepalived-py raises on purpose."""


class ConfigError(KeepalivedPyError):
    """A configuration that cannot be used; carries the position of the problem."""

    def __init__(self, message: str, pos: SourcePos | None = None, hint: str | None = None):
        self.message = message
        self.pos = pos
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        text = f"{self.pos}: {self.message}" if self.pos else self.message
        if self.hint:
            text += f" ({self.hint})"
        return text


class PacketError(KeepalivedPyError):
    """A datagram that cannot be decoded; `reason` is the counter it is filed under."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}" if detail else reason)
