"""load_config(): file -> preprocess -> Lark -> models -> validation, with every diagnostic.

This is the one entry point the daemon, `-t` and tests use. It never raises for a bad
configuration: problems come back as diagnostics with file and line, and `exit_status`
follows `keepalived -t`. A reload calls it and keeps the running configuration unless the
result is usable.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field

from keepalived_py.config.diagnostics import ConfigErr, Diagnostic, Diagnostics
from keepalived_py.config.model import KeepalivedConfig
from keepalived_py.config.parser import parse_lines
from keepalived_py.config.preprocess import IncludeCheck, Preprocessor
from keepalived_py.config.schema import Usage, build_model
from keepalived_py.config.validate import ValidationEnv, host_interfaces, validate
from keepalived_py.errors import ConfigError


@dataclass(slots=True)
class LoadResult:
    config: KeepalivedConfig
    diagnostics: list[Diagnostic]
    not_implemented_at: list[tuple[str, str]] = field(default_factory=list)
    files: list[str] = field(default_factory=list)

    @property
    def exit_status(self) -> int:
        return Diagnostics(self.diagnostics).exit_status

    @property
    def fatal(self) -> bool:
        return any(d.fatal for d in self.diagnostics)

    @property
    def not_implemented(self) -> list[str]:
        """One line per keyword used that nothing acts on yet: where first, and how often."""
        first: dict[str, str] = {}
        count: dict[str, int] = {}
        for where, what in self.not_implemented_at:
            first.setdefault(what, where)
            count[what] = count.get(what, 0) + 1
        return [f"{what} ({count[what]}x, first at {where})" for what, where in first.items()]

    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.code != ConfigErr.OK]


def load_config(path: str, *, config_id: str | None = None, include_missing_fatal: bool = False,
                check_interfaces: bool = True, text: str | None = None,
                random_seed: int | None = None) -> LoadResult:
    """Read and check a configuration. `text` parses the given string instead of the file."""
    # a large configuration allocates hundreds of thousands of small objects that all stay
    # alive: the cyclic collector only costs time here (about a fifth of a 60k-line parse)
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(path, config_id=config_id, include_missing_fatal=include_missing_fatal,
                     check_interfaces=check_interfaces, text=text, random_seed=random_seed)
    finally:
        if gc_was_enabled:
            gc.enable()


def _load(path: str, *, config_id: str | None, include_missing_fatal: bool, check_interfaces: bool,
          text: str | None, random_seed: int | None) -> LoadResult:
    diags = Diagnostics()
    pre = Preprocessor(config_id=config_id, diagnostics=diags, random_seed=random_seed,
                       include_check=IncludeCheck.ALL if include_missing_fatal else IncludeCheck.NONE)
    lines = pre.read_text(text, path) if text is not None else pre.read(path)
    try:
        tree = parse_lines(lines, diags)
    except ConfigError as exc:
        diags.add(ConfigErr.FATAL, str(exc))
        tree = ()
    usage = Usage()
    config = build_model(KeepalivedConfig, None, (), tree, diags, usage, None)
    assert isinstance(config, KeepalivedConfig)
    # the models hold what they need: the statements and lines (one object each per line of
    # the configuration) go now, so validation reuses their memory instead of adding to the peak
    del tree, lines
    env = ValidationEnv(diags, host_interfaces() if check_interfaces else None)
    validate(config, env)
    return LoadResult(config, list(diags), [(str(p), w) for p, w in usage.not_implemented], pre.files_read)


def load_text(text: str, name: str = "keepalived.conf", **kwargs) -> LoadResult:
    """load_config on a string (tests and tools)."""
    kwargs.setdefault("check_interfaces", False)
    return load_config(name, text=text, **kwargs)
