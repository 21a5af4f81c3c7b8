"""The check child's notifications: notify_up/notify_down/quorum_up/quorum_down scripts,
the notify FIFOs and smtp_alert mails, from the pool's NotifyRs / NotifyVs / SmtpAlert.

Why apart from track/notify.py: that Notifier is keyed by VRRP instance and writes the
vrrp_ FIFO; keepalived's checker process (check_daemon.c, ipwrapper.c do_rs_notifies /
do_vs_notifies, check_notify.c) has its own scripts per real / virtual server, writes
"RS <rs> <vs> UP|DOWN" and "VS <vs> UP|DOWN" lines to global_defs notify_fifo and
lvs_notify_fifo, and runs those FIFOs' scripts (the vrrp child leaves notify_fifo_script to
the checker process when there is one). Scripts are started in decision order and not
waited for (notify_exec); at shutdown they are killed after 1 s as keepalived's
child_killed_thread does. Mails go out in the background through track/smtp_alert.py.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Hashable
from typing import Any

from keepalived_py.check import spec as specmod
from keepalived_py.check.quorum import NotifyRs, NotifyVs, SmtpAlert
from keepalived_py.scripts.runner import Script, ScriptRunner
from keepalived_py.scripts.security import ScriptUserError
from keepalived_py.track.fifo import NotifyFifo, close_fifos, open_fifo, write_fifos
from keepalived_py.track.smtp_alert import (
    MailSettings,
    SmtpAlerter,
    real_server_alert,
    real_server_shut_alert,
    virtual_server_alert,
)

STOP_SCRIPT_TIMEOUT = 1.0



class CheckNotifier:
    """Acts on the pool's notify and mail decisions; see the module docstring."""

    def __init__(self, runner: ScriptRunner, log: Callable[[str], None], *,
                 make_alerter: Callable[[MailSettings], Any] | None = None,
                 settings_of: Callable[[Any], MailSettings | None] = MailSettings.from_global) -> None:
        self.runner = runner
        self._log = log
        self._make = make_alerter or (lambda s: SmtpAlerter(s, self._log))
        self._settings_of = settings_of
        self.rs_scripts: dict[tuple[Hashable, Hashable], tuple[Script | None, Script | None]] = {}
        self.vs_scripts: dict[Hashable, tuple[Script | None, Script | None]] = {}
        self.vs_labels: dict[Hashable, str] = {}
        self.rs_labels: dict[tuple[Hashable, Hashable], str] = {}
        self.fifos: list[NotifyFifo] = []
        self._fifo_specs: tuple = ()
        self.settings: MailSettings | None = None
        self.alerter: Any = None
        self.router_id: str | None = None
        self.lines_written = 0
        self.started: list[tuple[str, ...]] = []   # argv of every script started (dumps, tests)
        self._queue: asyncio.Queue | None = None
        self._worker: asyncio.Task | None = None
        self._stop_waits: set[asyncio.Task] = set()

    # ------------------------------------------------------------------ configuration
    def _prep(self, ns) -> Script | None:
        if ns is None:
            return None
        script, check = self.runner.prepare(ns.command, ns.user, ns.group)
        if script is None and check is None:
            self._log(f"Invalid user/group for notify script {ns.command} - ignoring")
        return script

    def configure(self, config) -> None:
        """Scripts, labels, FIFO and mail settings of a (new) configuration."""
        self.runner.configure(config)
        self.rs_scripts, self.vs_scripts, self.vs_labels, self.rs_labels = {}, {}, {}, {}
        for vs in config.virtual_server:
            vkey = specmod.vs_key(vs)
            self.vs_labels[vkey] = specmod.vs_label(vs)
            self.vs_scripts[vkey] = (self._prep(vs.quorum_up), self._prep(vs.quorum_down))
            for rs in vs.real_server:
                if rs.address is None:
                    continue
                rkey = specmod.rs_key(vs, rs)
                self.rs_labels[(vkey, rkey)] = specmod.rs_label(vs, rs)
                self.rs_scripts[(vkey, rkey)] = (self._prep(rs.notify_up), self._prep(rs.notify_down))
        gd = config.global_defs
        specs = []
        if gd is not None:
            for label, fifo, script in (("", gd.notify_fifo, gd.notify_fifo_script),
                                        ("lvs_", gd.lvs_notify_fifo, gd.lvs_notify_fifo_script)):
                if fifo is not None:
                    specs.append((label, fifo, self._prep(script) if script is not None else None))
        self._new_fifo_specs = tuple(specs)
        settings = self._settings_of(gd) if gd is not None else None
        self.router_id = settings.router_id if settings is not None else None
        if settings != self.settings:
            self.settings = settings
            self.alerter = self._make(settings) if settings is not None else None

    # ------------------------------------------------------------------ lifecycle
    async def start(self, config) -> None:
        self.configure(config)
        self._fifo_specs = self._new_fifo_specs
        await self._open_fifos()
        self._queue = asyncio.Queue()
        self._worker = asyncio.get_running_loop().create_task(self._work())

    async def reload(self, config) -> None:
        self.configure(config)
        if self._new_fifo_specs != self._fifo_specs:
            await self._close_fifos()
            self._fifo_specs = self._new_fifo_specs
            await self._open_fifos()

    async def drain(self) -> None:
        if self._queue is not None:
            await self._queue.join()

    async def stop(self) -> None:
        """Act on what is queued, give stopping scripts their second, close FIFOs and mail."""
        await self.drain()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        self._queue = self._worker = None
        if self._stop_waits:
            await asyncio.wait(list(self._stop_waits), timeout=STOP_SCRIPT_TIMEOUT + 3)
        fifo_scripts = [f.script_pid for f in self.fifos]
        await self._close_fifos()
        await self.runner.terminate(fifo_scripts)
        if self.alerter is not None:
            with contextlib.suppress(Exception):
                await self.alerter.drain(timeout=self.settings.connect_timeout if self.settings else 5)
                await self.alerter.close()

    # ------------------------------------------------------------------ decisions
    def handle(self, decision: NotifyRs | NotifyVs | SmtpAlert) -> None:
        """Queue one decision; never blocks. Mail is sent at once (in the background)."""
        if isinstance(decision, SmtpAlert):
            self.mail(decision)
            return
        if self._queue is not None:
            self._queue.put_nowait(decision)

    def mail(self, d: SmtpAlert) -> None:
        if self.alerter is None:
            return
        vs = self.vs_labels.get(d.vs, str(d.vs))
        if d.subject_kind == "vs":
            alert = virtual_server_alert(self.router_id, vs, d.state == "UP", d.message)
        else:
            rs = self.rs_labels.get((d.vs, d.rs), str(d.rs))
            if d.subject_kind == "rs_shut":
                alert = real_server_shut_alert(self.router_id, rs, vs, "Shutting" in d.message)
            else:
                # the pool leaves the state to the checker's text ("... succeed on service")
                up = d.state == "UP" if d.state is not None else "succeed" in d.message
                alert = real_server_alert(self.router_id, rs, vs, up, d.message)
        self.alerter.send(alert)

    async def _work(self) -> None:
        assert self._queue is not None
        while True:
            d = await self._queue.get()
            try:
                await self._notify(d)
            except Exception as exc:  # noqa: BLE001 - a notify problem must not stop the others
                self._log(f"notify failed: {exc!r}")
            finally:
                self._queue.task_done()

    async def _notify(self, d: NotifyRs | NotifyVs) -> None:
        if isinstance(d, NotifyRs):
            up_down = self.rs_scripts.get((d.vs, d.rs), (None, None))
        else:
            up_down = self.vs_scripts.get(d.vs, (None, None))
        script = up_down[0] if d.up else up_down[1]
        if script is not None:
            self.started.append(script.argv)
            if d.stopping:
                done = asyncio.get_running_loop().create_future()
                waiter = asyncio.ensure_future(done)
                self._stop_waits.add(waiter)
                waiter.add_done_callback(self._stop_waits.discard)
                pid = await self.runner.spawn(script, timeout=STOP_SCRIPT_TIMEOUT, kill_only=True,
                                              on_exit=lambda _r: done.done() or done.set_result(None))
                if pid is None and not done.done():
                    done.set_result(None)
            else:
                await self.runner.spawn(script, kill_on_stop=False)
        if d.fifo_line:
            self._write_fifos(d.fifo_line)

    # ------------------------------------------------------------------ FIFOs
    async def _open_fifos(self) -> None:
        self.fifos = []
        for label, spec, script in self._fifo_specs:
            # a FIFO we make belongs to its `notify_fifo NAME [user [group]]` user, else the
            # script user (keepalived's fifo_open() chown), as the vrrp child's do
            try:
                ids = self.runner.user_ids(getattr(spec, "user", None), getattr(spec, "group", None))
            except ScriptUserError as e:
                self._log(str(e))
                self._log(f"Invalid user/group for {label} fifo {spec.name} - ignoring")
                continue
            fifo = await open_fifo(label, spec.name, script, self.runner, self._log,
                                   f"{label}notify fifo script terminated", ids)
            if fifo is not None:
                self.fifos.append(fifo)

    async def _close_fifos(self) -> None:
        close_fifos(self.fifos)
        self.fifos = []

    def _write_fifos(self, line: str) -> None:
        if write_fifos(self.fifos, line):
            self.lines_written += 1
