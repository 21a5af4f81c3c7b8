"""What vrrp instances track: vrrp_script, track_file (vrrp_track_file), vrrp_track_process.

Keywords, ranges, defaults and messages follow keepalived 2.2.7 (vrrp_parser.c,
trackers/track_file.c) and keepalived.conf(5).
"""

from __future__ import annotations

from keepalived_py.config.model.vrrp_types import (
    InitFile,
    ProcessCommand,
    WeightReverse,
)
from keepalived_py.config.numbers import INT_MAX, UINT_MAX
from keepalived_py.config.schema import Model, Present, Word, head, kw, model
from keepalived_py.config.values import (
    Decimal,
    Number,
    OptChoice,
    ScriptCommand,
    Str,
    UserGroup,
    split_command,
)

_SECS_MAX = UINT_MAX // 1_000_000  # keepalived stores seconds * TIMER_HZ in an unsigned


@model
class VrrpScript(Model):
    """vrrp_script NAME { ... }: a command run every `interval` seconds."""

    block_keyword = "vrrp_script"

    name: str = head(Word(), default="")
    #: the command line (one word of the configuration; split by keepalived's quoting rules)
    script: str | None = kw(ScriptCommand())
    interval: int = kw(Number(0, _SECS_MAX, error="({n}): vrrp script interval '{v}' must be between 1 and "
                                                 f"{_SECS_MAX} - ignoring",
                            zero=(1, "({n}): vrrp script interval must be greater than 0, setting to 1")),
                       default=1)
    #: None: keepalived's default (0 = the script may run for up to `interval`)
    timeout: int | None = kw(Number(0, _SECS_MAX, error="({n}): vrrp script timeout '{v}' invalid - ignoring",
                                  zero=(1, "({n}): vrrp script timeout must be greater than 0, setting to 1")))
    #: (weight, reverse)
    weight: tuple[int, bool] = kw(WeightReverse(-253, 253, "vrrp_script {n} weight {v} must be in [-253, 253]",
                                                "vrrp_script {n} unknown weight option {v}", None), default=(0, False))
    rise: int = kw(Number(1, INT_MAX, error="({n}): vrrp script rise value '{v}' invalid, defaulting to 1",
                        fallback=1), default=1)
    fall: int = kw(Number(1, INT_MAX, error="({n}): vrrp script fall value '{v}' invalid, defaulting to 1",
                        fallback=1), default=1)
    #: (user,) or (user, group); None: global script_user
    user: tuple[str, ...] | None = kw(UserGroup())
    init_fail: bool = kw(Present(), default=False)

    @property
    def argv(self) -> list[str]:
        return split_command(self.script) if self.script else []


@model
class TrackFile(Model):
    """track_file NAME { ... } (vrrp_track_file is keepalived's deprecated synonym)."""

    block_keyword = "track_file"

    name: str = head(Word(), default="")
    file: str | None = kw(Str("track file file name missing"),
                          once="File already set for track file - ignoring {arg}")
    #: (weight, reverse); keepalived's default weight is 1
    weight: tuple[int, bool] = kw(WeightReverse(-254, 254, "Weight ({v}) for track_file {n} must be between "
                                                "[-254..254] inclusive. Ignoring...",
                                                "track_file {n} unknown weight option {v}", 1,
                                                "No weight specified for track file {n} - ignoring"),
                                  default=(1, False), once="Weight already set for track file - ignoring {arg}")
    #: (value, overwrite): write VALUE to the file at startup if absent (or always, overwrite)
    init_file: tuple[int, bool] | None = kw(InitFile())


@model
class TrackProcess(Model):
    """vrrp_track_process NAME { ... }: counts running processes that match."""

    block_keyword = "vrrp_track_process"

    name: str = head(Word(), default="")
    #: (process name or path, parameters...)
    process: tuple[str, ...] | None = kw(ProcessCommand(),
                                         once="Process already set for track process - ignoring {arg}")
    #: None: 'exact' when parameters are given, else the name alone is matched
    param_match: str | None = kw(OptChoice("exact", "initial", "partial",
                                           error="Invalid param_match type {v} - ignoring"))
    weight: tuple[int, bool] = kw(WeightReverse(-254, 254, "Weight ({v}) for vrrp_track_process {n} must be "
                                                "between [-254..254] inclusive. Ignoring...",
                                                "vrrp_track_process {n} unknown weight option {v}", None,
                                                "No weight specified for track process {n} - ignoring"),
                                  default=(0, False),
                                  once="Weight already set for track process - ignoring {arg}")
    quorum: int = kw(Number(1, 65535, error="Quorum ({v}) for vrrp_track_process {n} must be between "
                                          "[1..65535] inclusive. Ignoring..."), default=1)
    #: None: no maximum
    quorum_max: int | None = kw(Number(0, 65535, error="quorum_max ({v}) for vrrp_track_process {n} must be "
                                                     "between [0..65535] inclusive. Ignoring..."))
    fork_delay: float | None = kw(Decimal(0.000001, 3600, error="fork_delay ({v}) for vrrp_track_process {n} "
                                           "must be between [0.000001..3600] inclusive. Ignoring..."))
    terminate_delay: float | None = kw(Decimal(0.000001, 3600, error="terminate_delay ({v}) for "
                                                "vrrp_track_process {n} must be between [0.000001..3600] "
                                                "inclusive. Ignoring..."))
    #: sets both fork_delay and terminate_delay (unless they are given)
    delay: float | None = kw(Decimal(0.000001, 3600, error="delay ({v}) for vrrp_track_process {n} must be "
                                      "between [0.000001..3600] inclusive. Ignoring..."))
    full_command: bool = kw(Present(), default=False)

    @property
    def effective_param_match(self) -> str | None:
        if self.param_match is not None:
            return self.param_match
        return "exact" if self.process and len(self.process) > 1 else None

    @property
    def uses_full_command(self) -> bool:
        return self.full_command or self.param_match is not None or bool(self.process and len(self.process) > 1)

    @property
    def effective_fork_delay(self) -> float:
        return self.fork_delay if self.fork_delay is not None else (self.delay or 0.0)

    @property
    def effective_terminate_delay(self) -> float:
        return self.terminate_delay if self.terminate_delay is not None else (self.delay or 0.0)

    @property
    def effective_quorum(self) -> int:
        return 0 if self.quorum_max == 0 else self.quorum
