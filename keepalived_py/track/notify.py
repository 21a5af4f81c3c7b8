"""keepalived's notifications for vrrp instances and sync groups: scripts and FIFOs.

keepalived 2.2.7 keepalived/vrrp/vrrp_notify.c, for each state change, in this order:
1. the state's own script (notify_master / notify_backup / notify_fault / notify_stop, and
   notify_deleted's script for DELETED) with its configured arguments only;
2. the generic `notify` script with four more arguments: "INSTANCE"|"GROUP", the name, the
   state (MASTER BACKUP FAULT STOP DELETED, else "{UNKNOWN}") and the priority (the
   instance's effective priority, 0 for a group);
3. the FIFO line `INSTANCE "VI_1" MASTER 100` / `GROUP "G1" BACKUP 0` written to
   global_defs notify_fifo and vrrp_notify_fifo (non-blocking; a full FIFO loses the line).
DELETED becomes FAULT unless the instance has notify_deleted. MASTER_RX_LOWER_PRI runs
notify_master_rx_lower_pri (no arguments) and writes its FIFO line; a priority change
(notify_priority_changes) only writes `MASTER_PRIORITY` or `BACKUP_PRIORITY` (by the
instance's state). Scripts are started in that order and not waited for (notify_exec());
STOP scripts get 1 s and are then killed (SIGKILL to their process group, as
child_killed_thread()). `notify_timeout` (default None, as keepalived) bounds the others.

FIFOs (lib/notify.c fifo_open()): created with mkfifo (mode 0644 before umask) and given to
the FIFO's user/group if we created it; the FIFO's _script is started first, with the FIFO
name as an extra last argument and no timeout; then the FIFO is opened O_RDWR|O_NONBLOCK
so that writes never block and never fail for want of a reader. On stop a FIFO we created
is unlinked, then closed. The global notify_fifo's script is run by the checker process
when there is one (`checker_running`), as keepalived does.

Scripts that check_script_secure() refuses are dropped (check_notify_script_secure()).

Integration (vrrpd/runtime.py, vrrpd/daemon.py): `await notifier.start(config)` before the instances start;
`notifier.handle(action)` for every RunNotify the machines return (synchronous, queues);
`await notifier.reload(new_config)`; at shutdown, after the instances' STOP actions were
handled, `await notifier.stop()` (runs what is queued, lets STOP scripts finish).
The SECURITY VIOLATION condition over all VRRP scripts: scripts/vrrp_check.py, or
security_violation(trackers.script_flags | notifier.script_flags, runner.script_security).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from keepalived_py.scripts.runner import Script, ScriptRunner
from keepalived_py.scripts.security import ScriptUserError, security_violation
from keepalived_py.track.events import RunNotify
from keepalived_py.track.fifo import NotifyFifo, close_fifos, open_fifo, write_fifos

log = logging.getLogger("keepalived_py.track.notify")

STOP_SCRIPT_TIMEOUT = 1.0
STATES = ("MASTER", "BACKUP", "FAULT", "STOP", "DELETED")
FIFO_EVENTS = STATES + ("MASTER_RX_LOWER_PRI", "MASTER_PRIORITY", "BACKUP_PRIORITY")


def fifo_line(kind: str, name: str, state: str, priority: int) -> str:
    """vrrp_notify.c notify_fifo(): the line written to the notify FIFOs."""
    if state not in FIFO_EVENTS:
        state = "{UNKNOWN}"
    return f'{kind} "{name}" {state} {priority}\n'


def notify_args(kind: str, name: str, state: str, priority: int) -> list[str]:
    """vrrp_notify.c notify_script_exec(): what the generic notify script gets appended."""
    return [kind, name, state if state in STATES else "{UNKNOWN}", str(priority)]


@dataclass
class _Scripts:
    """The prepared notify scripts of one instance or group."""

    by_state: dict[str, Script] = field(default_factory=dict)
    generic: Script | None = None
    rx_lower_pri: Script | None = None
    notify_deleted: bool = False



class Notifier:
    """Runs notify scripts and writes FIFO lines for RunNotify actions, in order."""

    def __init__(self, runner: ScriptRunner | None = None, *, checker_running: bool = False,
                 notify_timeout: float | None = None, stop_timeout: float = STOP_SCRIPT_TIMEOUT,
                 log_fn: Callable[[str], None] | None = None) -> None:
        self.runner = runner
        #: a runner given by the caller may be shared (with the Trackers): stop() then ends
        #: only what the Notifier started
        self._owns_runner = runner is None
        self.checker_running = checker_running
        self.notify_timeout = notify_timeout
        self.stop_timeout = stop_timeout
        self._log = log_fn or log.info
        self.instances: dict[str, _Scripts] = {}
        self.groups: dict[str, _Scripts] = {}
        self.fifos: list[NotifyFifo] = []
        self.script_flags = 0
        self.last_state: dict[tuple[str, str], str] = {}
        self.lines_written = 0
        self._queue: asyncio.Queue[RunNotify | None] | None = None
        self._worker: asyncio.Task | None = None
        self._stop_waits: set[asyncio.Future] = set()
        self._fifo_specs: tuple = ()

    # ------------------------------------------------------------------ preparing
    def _prep(self, ns, what: str) -> Script | None:
        if ns is None:
            return None
        assert self.runner is not None
        script, check = self.runner.prepare(ns.command, ns.user, ns.group)
        if check is not None:
            self.script_flags |= check.flags
        if script is None and check is None:
            self._log(f"Invalid user/group for {what} script {ns.command} - ignoring")
        return script

    def _prep_holder(self, holder, what: str, instance: bool) -> _Scripts:
        s = _Scripts()
        for state in ("MASTER", "BACKUP", "FAULT", "STOP"):
            script = self._prep(getattr(holder, f"notify_{state.lower()}", None), what)
            if script is not None:
                s.by_state[state] = script
        s.generic = self._prep(getattr(holder, "notify", None), what)
        if instance:
            deleted = getattr(holder, "notify_deleted", None)
            if deleted is not None:
                s.notify_deleted = True
                script = self._prep(deleted.script, what)
                if script is not None:
                    s.by_state["DELETED"] = script
            s.rx_lower_pri = self._prep(getattr(holder, "notify_master_rx_lower_pri", None), what)
        return s

    def prepare(self, config) -> None:
        """Resolve users and check every notify script (check_vrrp_script_security())."""
        if self.runner is None:
            self.runner = ScriptRunner(log_fn=self._log)
        self.runner.configure(config)
        self.script_flags = 0
        self.instances = {i.name: self._prep_holder(i, "vrrp_instance", True)
                          for i in getattr(config, "vrrp_instance", ())}
        self.groups = {g.name: self._prep_holder(g, "vrrp_sync_group", False)
                       for g in getattr(config, "vrrp_sync_group", ())}
        gd = getattr(config, "global_defs", None)
        self._fifo_specs = ()
        if gd is not None:
            specs = []
            for label, fifo, script in (("", gd.notify_fifo, gd.notify_fifo_script),
                                        ("vrrp_", gd.vrrp_notify_fifo, gd.vrrp_notify_fifo_script)):
                if fifo is None:
                    continue
                prepared = self._prep(script, f"{label}notify_fifo") if script is not None else None
                if label == "" and self.checker_running:
                    # checked (and counted) first, then left to the checker process (vrrp.c)
                    prepared = None
                specs.append((label, fifo, prepared))
            self._fifo_specs = tuple(specs)

    def security_violation(self) -> str | None:
        return security_violation(self.script_flags, bool(self.runner and self.runner.script_security))

    # ------------------------------------------------------------------ lifecycle
    async def start(self, config) -> None:
        self.prepare(config)
        await self._open_fifos()
        self._queue = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def reload(self, config) -> None:
        """New scripts for the new configuration; FIFOs reopened if they changed."""
        old = self._fifo_specs
        self.prepare(config)
        if self._fifo_specs != old:
            await self._close_fifos()
            await self._open_fifos()

    def handle(self, action: RunNotify) -> None:
        """Queue a notification; never blocks."""
        if self._queue is None:
            raise RuntimeError("Notifier.handle() before start()")
        self._queue.put_nowait(action)

    async def drain(self) -> None:
        """Wait until every queued notification has been acted on (scripts started, lines written)."""
        if self._queue is not None:
            await self._queue.join()

    async def stop(self) -> None:
        """Act on what is queued, let STOP scripts finish (1 s), close the FIFOs."""
        if self._queue is not None and self._worker is not None:
            await self._queue.join()
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._queue = None
        self._worker = None
        if self._stop_waits:
            await asyncio.wait(list(self._stop_waits), timeout=self.stop_timeout + 3)
        fifo_scripts = [f.script_pid for f in self.fifos]
        await self._close_fifos()
        if self.runner is not None:
            if self._owns_runner:
                await self.runner.stop()
            else:
                await self.runner.terminate(fifo_scripts)

    # ------------------------------------------------------------------ FIFOs
    def _fifo_ids(self, fifo_spec) -> tuple[int, int] | None:
        assert self.runner is not None
        try:
            return self.runner.user_ids(fifo_spec.user, fifo_spec.group)
        except ScriptUserError as e:
            self._log(str(e))
            return None

    async def _open_fifos(self) -> None:
        assert self.runner is not None
        self.fifos = []
        for label, spec, script in self._fifo_specs:
            ids = self._fifo_ids(spec)
            if ids is None:
                self._log(f"Invalid user/group for {label} fifo {spec.name} - ignoring")
                continue
            # vrrp.c vrrp_notify_fifo_script_exit() serves both FIFOs of the vrrp process
            fifo = await open_fifo(label, spec.name, script, self.runner, self._log,
                                   "vrrp notify fifo script terminated", ids)
            if fifo is not None:
                self.fifos.append(fifo)

    async def _close_fifos(self) -> None:
        close_fifos(self.fifos)
        self.fifos = []

    def _write_fifos(self, line: str) -> None:
        if write_fifos(self.fifos, line):
            self.lines_written += 1

    # ------------------------------------------------------------------ notifying
    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            action = await self._queue.get()
            try:
                if action is not None:
                    await self._notify(action)
            except Exception:  # noqa: BLE001 - a notify problem must not stop notifications
                log.exception("notify failed for %s", action)
            finally:
                self._queue.task_done()

    async def _start(self, script: Script, extra: list[str], state: str) -> None:
        assert self.runner is not None
        if state == "STOP":
            done: asyncio.Future = asyncio.get_running_loop().create_future()
            self._stop_waits.add(done)

            def finished(_result, fut=done) -> None:
                if not fut.done():
                    fut.set_result(None)
                self._stop_waits.discard(fut)

            pid = await self.runner.spawn(script, extra, timeout=self.stop_timeout, kill_only=True,
                                          on_exit=finished)
            if pid is None:
                finished(None)
        else:
            await self.runner.spawn(script, extra, timeout=self.notify_timeout, kill_on_stop=False)

    async def _notify(self, a: RunNotify) -> None:
        kind = a.kind.upper()
        if a.fifo_only:  # a state written again, not a change: no script, last state kept
            self._write_fifos(fifo_line(kind, a.name, a.state.upper(), a.priority))
            return
        table = self.groups if kind == "GROUP" else self.instances
        scripts = table.get(a.name, _Scripts())
        state = a.state.upper()
        if state == "MASTER_RX_LOWER_PRI":
            if scripts.rx_lower_pri is not None:
                await self._start(scripts.rx_lower_pri, [], state)
            self._write_fifos(fifo_line(kind, a.name, state, a.priority))
            return
        if state in ("PRIORITY", "MASTER_PRIORITY", "BACKUP_PRIORITY"):
            if state == "PRIORITY":
                last = self.last_state.get((kind, a.name))
                state = "MASTER_PRIORITY" if last == "MASTER" else "BACKUP_PRIORITY"
            self._write_fifos(fifo_line(kind, a.name, state, a.priority))
            return
        if state == "DELETED" and not scripts.notify_deleted:
            state = "FAULT"
        self.last_state[(kind, a.name)] = state
        script = scripts.by_state.get(state)
        if script is not None:
            await self._start(script, [], state)
        if scripts.generic is not None:
            await self._start(scripts.generic, notify_args(kind, a.name, state, a.priority), state)
        self._write_fifos(fifo_line(kind, a.name, state, a.priority))

    # ------------------------------------------------------------------ observing
    def snapshot(self) -> dict:
        def describe(s: _Scripts) -> dict:
            out = {f"notify_{k.lower()}": " ".join(v.argv) for k, v in s.by_state.items()}
            if s.generic is not None:
                out["notify"] = " ".join(s.generic.argv)
            if s.rx_lower_pri is not None:
                out["notify_master_rx_lower_pri"] = " ".join(s.rx_lower_pri.argv)
            return out

        return {
            "instances": {n: describe(s) for n, s in self.instances.items()},
            "groups": {n: describe(s) for n, s in self.groups.items()},
            "fifos": [{"name": f.name, "type": f"{f.label}notify_fifo", "created": f.created,
                       "script_pid": f.script_pid} for f in self.fifos],
            "lines_written": self.lines_written,
            "queued": self._queue.qsize() if self._queue is not None else 0,
        }
