"""Deciding whether a new configuration may replace the running one (parent side).

A reload is validate-then-broadcast: the parent parses the new file first and only if it
is fit sends it to the children, which reconcile. A file with errors (keepalived's config
error classes up to GENERAL_ERROR) or a change keepalived cannot apply at a reload
(network namespace, instance name) leaves everything running untouched.
Pure: takes load results, returns the verdict and the log lines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keepalived_py.core import configload

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

PACKAGE = "keepalived"


@dataclass
class ReloadVerdict:
    ok: bool
    lines: list[str] = field(default_factory=list)  # to log, in order
    reason: str = ""  # short, for sd_notify STATUS


def judge(old_config: KeepalivedConfig, result: Any, opts: Any) -> ReloadVerdict:
    """May `result` (a LoadResult for the new file) replace `old_config`?"""
    lines = [str(d) for d in result.diagnostics]
    blocking = configload.blocking_diagnostics(result)
    if blocking:
        first = blocking[0]
        lines.append(f"New config failed validation ({len(blocking)} error"
                     f"{'s' if len(blocking) != 1 else ''}, first: {first}) - "
                     "continuing with the running configuration")
        return ReloadVerdict(False, lines, f"reload refused: {first}")
    unsupported = []
    if configload.network_namespace(old_config, opts) != configload.network_namespace(result.config, opts):
        unsupported.append("network namespace")
    if configload.instance_name(old_config) != configload.instance_name(result.config):
        unsupported.append("instance name")
    if (configload.global_setting(old_config, "net_namespace_ipvs")
            != configload.global_setting(result.config, "net_namespace_ipvs")):
        unsupported.append("IPVS network namespace")
    if unsupported:
        lines.extend(f"Cannot change {what} at a reload - please restart {PACKAGE}"
                     for what in unsupported)
        return ReloadVerdict(False, lines, f"reload refused: cannot change {unsupported[0]}")
    return ReloadVerdict(True, lines)


@dataclass
class ReloadTracker:
    """keepalived's num_reloading: which children still have to confirm the start-up or a
    reload, and whether another reload was asked for meanwhile."""

    pending: set[str] = field(default_factory=set)
    busy: bool = False
    queued: bool = False
    loaded: bool = False  # first completion says "Startup complete", later "Reload complete"
    seq: int = 0

    def begin(self, roles: set[str]) -> int:
        self.busy = True
        self.pending = set(roles)
        self.seq += 1
        return self.seq

    def done(self, role: str) -> bool:
        """A child confirmed (or died); True when this completes the round."""
        if role not in self.pending:
            return False
        self.pending.discard(role)
        return self.busy and not self.pending

    def finish(self) -> str:
        """The completion line; the caller then checks `take_queued()`."""
        word = "Reload" if self.loaded else "Startup"
        self.loaded = True
        self.busy = False
        self.pending = set()
        return f"{word} complete"

    def take_queued(self) -> bool:
        queued, self.queued = self.queued, False
        return queued
