"""Logging set up the way keepalived logs, for the parent and every child process.

Operators grep keepalived's log lines, so the text and the destinations follow lib/logger.c:
syslog under ident `Keepalived` (children `Keepalived_vrrp`, `Keepalived_healthcheckers`,
`Keepalived_bfd`) with LOG_PID and the `-S` facility, unless `-G`; with `-l` and `-n`
also the console (stderr) as `<C-locale %c>: <message>`. `-D` turns on detail lines: code
logs them with `logger.debug()`, and they are sent at LOG_INFO like keepalived's.
Everything in the project logs through `get_logger()`; nobody prints.
"""

from __future__ import annotations

import logging
import os
import syslog
import time
from dataclasses import dataclass

from keepalived_py import VERSION_STRING, VERSION_SUFFIX

__all__ = ["VERSION_STRING", "VERSION_SUFFIX"]  # kept here for the code that logs them

IDENT_PARENT = "Keepalived"
IDENT_BY_ROLE = {
    "vrrp": "Keepalived_vrrp",
    "check": "Keepalived_healthcheckers",
    "bfd": "Keepalived_bfd",
}
LOGGER_NAME = "keepalived"

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def c_time(when: float | None = None) -> str:
    """strftime("%c") in the C locale ("Wed Nov  5 08:55:54 2026"), independent of the
    process locale, as keepalived's console lines show it (local time)."""
    tm = time.localtime(time.time() if when is None else when)
    return (f"{_DAYS[tm.tm_wday]} {_MONTHS[tm.tm_mon - 1]} {tm.tm_mday:2d} "
            f"{tm.tm_hour:02d}:{tm.tm_min:02d}:{tm.tm_sec:02d} {tm.tm_year}")


def console_line(message: str, when: float | None = None) -> str:
    """One console log line exactly as keepalived writes it with -l -n."""
    return f"{c_time(when)}: {message}\n"


def syslog_priority(levelno: int) -> int:
    """Python level -> syslog priority; detail (DEBUG) goes out as LOG_INFO like keepalived."""
    if levelno >= logging.CRITICAL:
        return syslog.LOG_ALERT
    if levelno >= logging.ERROR:
        return syslog.LOG_ERR
    if levelno >= logging.WARNING:
        return syslog.LOG_WARNING
    return syslog.LOG_INFO


@dataclass(frozen=True)
class LogSettings:
    """Where log lines go; derived from the options once per process."""

    ident: str = IDENT_PARENT
    use_syslog: bool = True
    facility: int = syslog.LOG_DAEMON
    console: bool = False  # keepalived: -l only takes effect with -n
    detail: int = 0

    @classmethod
    def from_options(cls, opts: object, role: str | None = None) -> LogSettings:
        ident = IDENT_BY_ROLE.get(role or "", IDENT_PARENT)
        return cls(
            ident=ident,
            use_syslog=not getattr(opts, "no_syslog", False),
            facility=int(getattr(opts, "log_facility", syslog.LOG_DAEMON)),
            console=bool(getattr(opts, "log_console", False) and getattr(opts, "dont_fork", False)),
            detail=int(getattr(opts, "log_detail", 0)),
        )


class SyslogHandler(logging.Handler):
    """syslog(3) through Python's syslog module: same ident/LOG_PID/facility as keepalived."""

    def __init__(self, ident: str, facility: int) -> None:
        super().__init__()
        syslog.openlog(ident, syslog.LOG_PID, facility)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            syslog.syslog(syslog_priority(record.levelno), self.format(record))
        except Exception:  # noqa: BLE001 - logging must never take the daemon down
            self.handleError(record)

    def close(self) -> None:
        syslog.closelog()
        super().close()


class ConsoleHandler(logging.Handler):
    """keepalived's console format, written with one write() per line so the parent's and
    the children's lines never interleave mid-line on a shared stderr."""

    def __init__(self, fd: int = 2) -> None:
        super().__init__()
        self.fd = fd

    def emit(self, record: logging.LogRecord) -> None:
        try:
            os.write(self.fd, console_line(self.format(record), record.created).encode(
                "utf-8", "replace"))
        except OSError:
            pass  # stderr closed (daemonised): nothing sensible to do


_settings = LogSettings()


def setup(settings: LogSettings) -> logging.Logger:
    """(Re)configure the project logger for this process; safe to call again after fork
    or when -S/-G change the destinations."""
    global _settings
    logger = logging.getLogger(LOGGER_NAME)
    for handler in list(logger.handlers):
        logger.removeHandler(handler)
        handler.close()
    logger.propagate = False
    logger.setLevel(logging.DEBUG if settings.detail else logging.INFO)
    if settings.use_syslog:
        logger.addHandler(SyslogHandler(settings.ident, settings.facility))
    if settings.console:
        logger.addHandler(ConsoleHandler())
    if not logger.handlers:
        logger.addHandler(logging.NullHandler())
    _settings = settings
    return logger


def get_logger(name: str | None = None) -> logging.Logger:
    """The project logger (or a child of it: `get_logger("vrrp")`); messages are the bare
    keepalived text, no prefixes."""
    return logging.getLogger(LOGGER_NAME if not name else f"{LOGGER_NAME}.{name}")


def detail_enabled() -> bool:
    return _settings.detail > 0


def extra_detail_enabled() -> bool:
    return _settings.detail > 1


def wrap_option_lines(option: str, text: str, indent: int = 0) -> list[str]:
    """keepalived's log_options(): "<option>: <text>" cut at spaces into lines of at most
    100 - len(option) characters, continuation lines aligned under the text."""
    width = 100 - len(option)
    lines: list[str] = []
    rest = text
    first = True
    while rest:
        rest = rest.lstrip(" ")
        if not rest:
            break
        if len(rest) <= width:
            end = len(rest)
        elif rest[width] == " ":
            end = width
        else:
            end = rest.rfind(" ", 0, width)
            if end <= 0:
                end = width
        chunk, rest = rest[:end], rest[end:]
        if first:
            lines.append(f"{' ' * indent}{option}: {chunk}")
            first = False
        else:
            lines.append(f"{' ' * (indent + len(option) + 2)}{chunk}")
    return lines


def command_line_lines(argv: list[str], indent: int = 0) -> list[str]:
    """The "Command line: 'prog' 'arg' ..." start-up lines."""
    return wrap_option_lines("Command line", " ".join(f"'{a}'" for a in argv), indent)
