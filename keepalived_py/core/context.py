"""What a child role's `run(ctx)` receives: its configuration, the options, a logger, and
the hooks through which the process framework asks it to reload and to dump.

This is the whole interface between the process machinery (core/child.py: signals, pid
file, IPC with the parent) and a subsystem's runtime (VRRP, checkers, BFD). A role module
`keepalived_py.<role>.daemon` provides:

    async def run(ctx: ChildContext) -> int:
        ctx.on_reload(apply_new_config)   # async (new_config) -> None; raise to refuse
        ctx.on_dump(snapshot_section)     # async (kind) -> str | JSON-able
        ... start sockets/timers from ctx.config ...
        await ctx.stopped()               # tells the parent "running" (-> READY=1), then
                                          # waits for TERM/INT, a Stop message, the parent gone
        ... release: VRRP sends priority 0 and removes VIPs unless ctx.options say not ...
        return 0                          # the child's exit status
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keepalived_py.clock import Clock, MonotonicClock

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

ReloadHook = Callable[[Any], Awaitable[None]]
DumpHook = Callable[[str], Awaitable[Any]]


@dataclass
class ChildContext:
    """Per-process state handed to a role; the framework owns it, the role reads it."""

    role: str  # "vrrp" | "check" | "bfd"
    options: Any  # core.options.Options: -X, -V, -I, -a, -D ... as the parent got them
    config: KeepalivedConfig  # the running one (frozen); replaced after each reload
    log: logging.Logger
    pid_file: str
    #: 0 for the first start, then +1 for each respawn: a respawned runtime adopts or
    #: cleans what its predecessor left (VIPs, IPVS entries) instead of assuming a clean slate
    start_count: int = 0
    #: True when this child replaces a predecessor whose work is still in place: a respawn
    #: after a crash, or an in-place restart (re-exec of the parent). The role adopts the
    #: VIPs, routes and IPVS entries it finds and resumes (MASTER stays MASTER) instead of
    #: starting from a clean slate.
    resume: bool = False
    #: False once the parent asked this child to stop WITHOUT releasing (Stop(release=False),
    #: an in-place restart): leave VIPs, routes, IPVS as they are, send no priority-0 advert,
    #: run no notify, just exit. Read it after `await ctx.stopped()`.
    release: bool = True
    clock: Clock = field(default_factory=MonotonicClock)
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _reload_hook: ReloadHook | None = None
    _dump_hook: DumpHook | None = None
    _ready_cb: Callable[[], None] | None = None
    _ready_sent: bool = False
    reload_count: int = 0
    _send_cb: Callable[[Any], None] | None = None
    _message_hook: Callable[[Any], None] | None = None

    def send(self, msg: Any) -> bool:
        """Queue a typed ipc message to the parent (e.g. the bfd child's BfdState); False
        when there is no parent channel (a child run by hand)."""
        if self._send_cb is None:
            return False
        self._send_cb(msg)
        return True

    def on_message(self, hook: Callable[[Any], None]) -> None:
        """Register the receiver of messages the parent forwards to this role (BfdState)."""
        self._message_hook = hook

    def deliver(self, msg: Any) -> None:
        if self._message_hook is not None:
            self._message_hook(msg)

    def mark_ready(self) -> None:
        """Tell the parent this child runs (its start-up counts toward "Startup complete"
        and systemd's READY=1). Called by `stopped()`; call it earlier if useful."""
        if not self._ready_sent:
            self._ready_sent = True
            if self._ready_cb is not None:
                self._ready_cb()

    def on_reload(self, hook: ReloadHook) -> None:
        """Register the reconciliation step: called with a validated new config; it must
        apply the difference to what runs (or raise to keep the old config)."""
        self._reload_hook = hook

    def on_dump(self, hook: DumpHook) -> None:
        """Register the snapshot step: kind is "data", "stats", "stats_clear" (return the
        stats, then zero them) or "json"; return text, or JSON-able data for "json"."""
        self._dump_hook = hook

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def request_stop(self, release: bool = True) -> None:
        """Ask the role to stop; release=False (an in-place restart) sticks: a later plain
        stop request cannot turn a quiet exit back into a releasing one."""
        if not release:
            self.release = False
        self._stop.set()

    async def stopped(self) -> None:
        """Mark the child ready, then wait until the process is asked to stop."""
        self.mark_ready()
        await self._stop.wait()

    async def apply_reload(self, new_config: KeepalivedConfig) -> None:
        if self._reload_hook is not None:
            await self._reload_hook(new_config)
        self.config = new_config
        self.reload_count += 1

    async def dump(self, kind: str) -> Any:
        if self._dump_hook is None:
            return [] if kind == "json" else ""
        return await self._dump_hook(kind)
