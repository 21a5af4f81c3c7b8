"""The bfd child's event loop glue: sockets and timers around the pure sessions.

Datagrams are decoded (packet.py), matched (demux.py) and handed to their session
(session.py); the actions that come back are executed here: packets sent from the
session's own socket, Up/Down reported to the other children, log lines written. Each
session has one loop timer, armed at its next deadline after every step. Times given to
the core are integer microseconds of the child's monotonic clock.

Restarts without a flap (resume.py): with a state file, each Up session's record is kept
there for a successor; a runtime started with `resume` carries on the Up sessions its
predecessor recorded instead of starting them Down.
"""

from __future__ import annotations

import asyncio
import logging
import random
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from keepalived_py.bfd import resume as resuming
from keepalived_py.bfd import sockets
from keepalived_py.bfd.demux import Sessions
from keepalived_py.bfd.packet import (
    PORT_SINGLE_HOP,
    DecodeError,
    DropReason,
    State,
    decode,
    encode,
)
from keepalived_py.bfd.plan import InstancePlan, plan_all
from keepalived_py.bfd.session import US, Action, Dropped, Log, Report, Session, Transmit

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

ReportFn = Callable[[str, bool, bool, bool], None]
"""report(name, up, to_vrrp, to_checker)"""

OPEN_RETRY = 60.0  # s: keepalived retries an output socket it could not open every minute
BATCH = 64  # datagrams read per wake-up before letting timers run


@dataclass
class Running:
    plan: InstancePlan
    session: Session
    sock: socket.socket | None = None
    timer: asyncio.TimerHandle | None = None
    armed_at: int | None = None
    retry: asyncio.TimerHandle | None = None
    send_error: bool = False
    tx_errors: int = 0
    #: sendto()'s address (a link-local neighbour's carries its interface)
    dest: tuple = ()
    #: resume.digest() of the plan: the state file's record names it
    config: str = ""
    #: what the state file last saw of the session (_note_state)
    noted: tuple = ()


@dataclass
class Totals:
    rx_datagrams: int = 0
    rx_errors: int = 0


class BfdRuntime:
    """All bfd_instance sessions of this process."""

    def __init__(self, clock: Any, log: logging.Logger, report: ReportFn, *,
                 rand: Callable[[int, int], int] | None = None, log_detail: bool = False,
                 ports: tuple[int, ...] = (PORT_SINGLE_HOP, 4784), dest_port: int = PORT_SINGLE_HOP,
                 state_file: Any = None, resume: bool = False) -> None:
        """`state_file` (vrrpd/adopt.py's StateFile): where each Up session is recorded for a
        successor; `resume`: carry on the Up sessions a predecessor recorded there."""
        self.clock = clock
        self.log = log
        self.report_fn = report
        self.rand = rand or random.SystemRandom().randint
        self.log_detail = log_detail
        self.ports = ports
        self.dest_port = dest_port
        self.sessions = Sessions(self.rand)
        self.running: dict[str, Running] = {}
        self.listeners: list[socket.socket] = []
        self.totals = Totals()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.state_file = state_file
        self._records: dict[str, Any] = (state_file.load() if state_file is not None and resume else {})
        self._write_pending = False

    # ------------------------------------------------------------------ time
    def now_us(self) -> int:
        return int(self.clock.now() * US)

    # ------------------------------------------------------------------ lifecycle
    async def start(self, config: KeepalivedConfig) -> None:
        """Open the listeners (no listener: keepalived exits), then start every session."""
        self._loop = asyncio.get_running_loop()
        for port in self.ports:
            try:
                sock = sockets.open_listener(port)
            except OSError as exc:
                if port == PORT_SINGLE_HOP:
                    self.log.error(f"bind() error {exc.errno} ({exc.strerror})")
                    self.log.error("Unable to open listening socket")
                    raise
                self.log.warning(f"Unable to open multi-hop listening socket on port {port}: {exc}")
                continue
            self.listeners.append(sock)
            self._loop.add_reader(sock.fileno(), self._on_readable, sock)
        for plan in plan_all(getattr(config, "bfd_instance", ())).values():
            self._create(plan)
        self._records = {}  # only a start resumes
        self.flush_state()

    async def reload(self, config: KeepalivedConfig) -> None:
        """Reconcile by instance name: keep the state of those that stay (poll if their
        timers changed), stop the removed ones, start the new ones."""
        plans = plan_all(getattr(config, "bfd_instance", ()))
        for name in [n for n in self.running if n not in plans]:
            self._destroy(name)
        for name, plan in plans.items():
            run = self.running.get(name)
            if run is None:
                self._create(plan)
            elif (plan.endpoint != run.plan.endpoint or plan.cfg.ttl != run.plan.cfg.ttl):
                self._destroy(name)
                self._create(plan)
            else:
                run.plan = plan
                self._execute(run, run.session.reconfigure(plan.cfg, self.now_us()))

    async def stop(self, quiet: bool = False) -> None:
        """`quiet` (an in-place restart): the Up sessions stay recorded for the successor;
        otherwise the records go (a later start begins afresh, as keepalived does)."""
        if quiet:
            self.flush_state()
        elif self.state_file is not None:
            self.state_file.write({})
        self.state_file = None
        for name in list(self.running):
            self._destroy(name)
        for sock in self.listeners:
            if self._loop is not None:
                self._loop.remove_reader(sock.fileno())
            sock.close()
        self.listeners.clear()

    def _create(self, plan: InstancePlan) -> None:
        session = self.sessions.add(plan.cfg, plan.endpoint)
        run = Running(plan, session, config=resuming.digest(plan))
        self.running[plan.cfg.name] = run
        now = self.now_us()
        if self._open(run):
            rec = self._records.get(plan.cfg.name)
            if rec is not None:
                ok, why = resuming.may_resume(rec, run.config)
                if ok:
                    self._execute(run, resuming.resume(session, rec, now))
                    return
                self.log.info(f"({plan.cfg.name}) not resuming the previous bfd process's session: {why}")
            self._execute(run, session.start(now))
        else:
            self._execute(run, session.admin_down(now))
            self._report(run, False)
            self._schedule_retry(run)

    def _destroy(self, name: str) -> None:
        run = self.running.pop(name)
        self.sessions.remove(name)
        for handle in (run.timer, run.retry):
            if handle is not None:
                handle.cancel()
        if run.sock is not None:
            run.sock.close()

    def _open(self, run: Running) -> bool:
        ep = run.plan.endpoint
        try:
            scope = sockets.link_scope(ep.neighbor, ep.source)
            run.sock = sockets.open_sender(ep.neighbor, ep.source, run.plan.cfg.ttl, self.rand, scope=scope)
            run.dest = sockets.destination(ep.neighbor, self.dest_port, scope)
        except OSError as exc:
            self.log.error(f"({run.plan.cfg.name}) socket/bind error ({exc.strerror or exc})")
            self.log.error(f"({run.plan.cfg.name}) Unable to open output socket, disabling instance")
            return False
        return True

    def _schedule_retry(self, run: Running) -> None:
        assert self._loop is not None

        def retry() -> None:
            run.retry = None
            if run.plan.cfg.name not in self.running:
                return
            if self._open(run):
                self._execute(run, run.session.enable(self.now_us()))
            else:
                self._schedule_retry(run)

        run.retry = self._loop.call_later(OPEN_RETRY, retry)

    # ------------------------------------------------------------------ actions
    def _execute(self, run: Running, actions: list[Action]) -> None:
        for act in actions:
            if isinstance(act, Transmit):
                self._send(run, act)
            elif isinstance(act, Report):
                self._report(run, act.up)
            elif isinstance(act, Log):
                if act.level == "warning":
                    self.log.warning(act.text)
                elif act.level == "info" or self.log_detail:
                    self.log.info(act.text)
            elif isinstance(act, Dropped):
                self.sessions.count(act.reason)
                if self.log_detail:
                    self.log.info(f"({run.plan.cfg.name}) Discarding packet ({act.reason.value})")
        self._arm(run)
        if self.state_file is not None:
            self._note_state(run)

    # ------------------------------------------------------------------ state file
    def _note_state(self, run: Running) -> None:
        """Schedule a state file write when this session's record changed (Up, Down, new
        discriminator or peer timers): once per loop iteration, not per packet."""
        s = run.session
        key = (s.state, s.local_discr, s.remote_discr, s.remote_min_tx_us, s.remote_min_rx_us, s.remote_mult)
        if key == run.noted:
            return
        run.noted = key
        if self._write_pending:
            return
        self._write_pending = True
        if self._loop is not None:
            self._loop.call_soon(self.flush_state)

    def flush_state(self) -> None:
        self._write_pending = False
        if self.state_file is None:
            return
        records = {}
        for name, run in self.running.items():
            rec = resuming.record(run.session, run.config)
            if rec is not None:
                records[name] = rec
        self.state_file.write(records)

    def _send(self, run: Running, act: Transmit) -> None:
        if run.sock is None:
            return
        try:
            run.sock.sendto(encode(act.packet), run.dest)
        except OSError as exc:
            run.tx_errors += 1
            if not run.send_error:
                self.log.error(f"sendto() error ({exc.strerror or exc})")
                self.log.error(f"({run.plan.cfg.name}) Error sending packet")
                run.send_error = True
            return
        run.send_error = False

    def _report(self, run: Running, up: bool) -> None:
        try:
            self.report_fn(run.plan.cfg.name, up, run.plan.notify_vrrp, run.plan.notify_checker)
        except Exception:  # noqa: BLE001
            self.log.exception(f"({run.plan.cfg.name}) event send failed")

    def _arm(self, run: Running) -> None:
        due = run.session.next_deadline()
        if due == run.armed_at and run.timer is not None:
            return
        if run.timer is not None:
            run.timer.cancel()
            run.timer = None
        run.armed_at = due
        if due is None or self._loop is None:
            return
        delay = max(0.0, (due - self.now_us()) / US)
        run.timer = self._loop.call_later(delay, self._fire, run, due)

    def _fire(self, run: Running, due: int) -> None:
        run.timer = None
        run.armed_at = None
        if self.running.get(run.plan.cfg.name) is not run:
            return
        self._execute(run, run.session.on_timer(max(self.now_us(), due)))

    # ------------------------------------------------------------------ receive
    def _on_readable(self, sock: socket.socket) -> None:
        for _ in range(BATCH):
            try:
                dgram = sockets.receive(sock)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self.totals.rx_errors += 1
                self.log.error(f"recvmsg() error ({exc.strerror or exc})")
                return
            self.handle_datagram(dgram)

    def handle_datagram(self, dgram: sockets.Datagram) -> None:
        self.totals.rx_datagrams += 1
        if dgram.truncated:
            self.sessions.count(DropReason.TRUNCATED)
            return
        try:
            pkt = decode(dgram.data)
        except DecodeError as exc:
            self.sessions.count(exc.reason)
            if self.log_detail:
                self.log.info(f"Discarding bogus packet from {dgram.src} ({exc})")
            return
        session = self.sessions.match(pkt, dgram.src, dgram.dst, dgram.ttl)
        if session is None:
            return
        run = self.running[session.name]
        self._execute(run, session.receive(pkt, self.now_us()))

    # ------------------------------------------------------------------ views
    def drops(self) -> dict[str, int]:
        return {reason.name.lower(): n for reason, n in sorted(self.sessions.drops.items(),
                                                               key=lambda kv: kv[0].name)}

    def states(self) -> dict[str, State]:
        return {name: run.session.state for name, run in self.running.items()}
