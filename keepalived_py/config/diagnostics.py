"""Configuration diagnostics with keepalived's error classes and its `-t` exit status rule.

keepalived keeps the *highest* config_err_t value it reported (lib/parser.c,
vreport_config_error) and `keepalived -t` maps it to an exit status: 0 clean, 4 for a config
it cannot run (file not found, bad interface, fatal), 6 for script security, 5 for anything
else; a missing parameter ends keepalived at once with status 2 (null_strvec). We keep the same classes so `keepalived-py -t` exits as keepalived does.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from keepalived_py.errors import SourcePos


class ConfigErr(IntEnum):
    """keepalived's config_err_t, in its order (the order decides the exit status)."""

    OK = 0  # informational: logged, no effect on the exit status
    FILE_NOT_FOUND = 1
    BAD_IF = 2
    FATAL = 3
    MULTIPLE_FILES = 4
    UNKNOWN_KEYWORD = 5
    UNEXPECTED_BOB = 6
    MISSING_BOB = 7
    UNEXPECTED_EOB = 8
    MISSING_EOB = 9
    UNMATCHED_QUOTE = 10
    MISSING_PARAMETER = 11
    INVALID_NUMBER = 12
    GENERAL_ERROR = 13
    WARNING = 14
    DEPRECATED = 15
    SECURITY_ERROR = 16


#: keepalived's chk_exit_code values for `-t`.
EXIT_OK = 0
#: KEEPALIVED_EXIT_CONFIG: a missing parameter makes keepalived exit at once (null_strvec)
EXIT_MISSING_PARAMETER = 2
EXIT_CONFIG = 4
EXIT_CONFIG_TEST = 5
EXIT_CONFIG_TEST_SECURITY = 6

_CANNOT_RUN = (ConfigErr.FILE_NOT_FOUND, ConfigErr.BAD_IF, ConfigErr.FATAL)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One message about the configuration, placed where keepalived would place it."""

    code: ConfigErr
    message: str
    pos: SourcePos | None = None
    hint: str | None = None

    def __str__(self) -> str:
        text = self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        if self.pos is not None and self.pos.line:
            return f"({self.pos.file}: Line {self.pos.line}) {text}"
        return text

    @property
    def fatal(self) -> bool:
        return self.code in _CANNOT_RUN

    @property
    def location(self) -> str:
        """file:line[:column] for tools and our own friendlier listing."""
        return str(self.pos) if self.pos else "-"


@dataclass(slots=True)
class Diagnostics:
    """The messages of one configuration load, in the order they were found."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, code: ConfigErr, message: str, pos: SourcePos | None = None, hint: str | None = None) -> None:
        self.items.append(Diagnostic(code, message, pos, hint))

    def __iter__(self):
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def worst(self) -> ConfigErr:
        return max((d.code for d in self.items), default=ConfigErr.OK)

    @property
    def fatal(self) -> bool:
        return any(d.fatal for d in self.items)

    @property
    def exit_status(self) -> int:
        if any(d.code == ConfigErr.MISSING_PARAMETER for d in self.items):
            return EXIT_MISSING_PARAMETER
        worst = self.worst
        if worst == ConfigErr.OK:
            return EXIT_OK
        if worst in _CANNOT_RUN:
            return EXIT_CONFIG
        if worst == ConfigErr.SECURITY_ERROR:
            return EXIT_CONFIG_TEST_SECURITY
        return EXIT_CONFIG_TEST
