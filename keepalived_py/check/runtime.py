"""The check child's running state: checkers -> pool -> desired IPVS table -> the kernel.

Glue only; every decision is made by a pure part:
- check.spec builds the pool's servers and the checker specs, check.scheduler runs the probes
  and feeds hysteresis.py / quorum.Pool, whose decisions arrive in `_emit()`;
- the pool's state becomes a `lvs.plan.LiveState` (alive, effective weights, quorum), the plan
  gives the desired table for the whole configuration, lvs.reconcile diffs it with what the
  IpvsPort holds and applies the difference. Reconciling is coalesced: any number of
  DestChanged decisions while a reconcile runs make one more reconcile, never a queue;
- notify scripts, FIFOs and mail go to check.notify.CheckNotifier.

What is "ours" in the table (lvs.diff.Owned): every key the running configuration can make
(plan.possible_entries), what we last asked for, and at a reload the old configuration's keys
until a reconcile succeeded. So a respawned child adopts the table its predecessor left (kept
entries stay, stale ones go, nothing is flushed unless lvs_flush), and foreign entries stay.

Stop (keepalived's checker_terminate_phase1 / clear_services): the checkers stop, the pool says
its last lines and notifies (omega), then our entries leave the kernel unless -I
(dont_release_ipvs); `lvs_flush_on_stop` flushes everything.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from keepalived_py.check import addrwatch, fdlimit, tls
from keepalived_py.check import spec as specmod
from keepalived_py.check.kinds import bfd as bfd_kind
from keepalived_py.check.kinds import probe_for as default_probe_for
from keepalived_py.check.kinds.base import Resources
from keepalived_py.check.notify import CheckNotifier
from keepalived_py.check.quorum import (
    Decision,
    DestChanged,
    Log,
    NotifyRs,
    NotifyVs,
    Pool,
    SmtpAlert,
)
from keepalived_py.check.scheduler import Scheduler
from keepalived_py.lvs import plan, reconcile
from keepalived_py.lvs.diff import Owned
from keepalived_py.lvs.kernel import IpvsPort, OpFailure
from keepalived_py.lvs.table import Table
from keepalived_py.scripts.runner import ScriptRunner

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig


def live_state(config: KeepalivedConfig, pool: Pool) -> plan.LiveState:
    """The pool's view as the plan's input: which real servers are alive, their effective
    weights (as the pool lists them while alive) and each virtual server's quorum state."""
    alive: dict = {}
    weights: dict = {}
    quorum_up: dict = {}
    for vs in config.virtual_server:
        vkey = specmod.vs_key(vs)
        try:
            quorum_up[vs.key] = pool.quorum_up(vkey)
            dests = pool.destinations(vkey)
        except KeyError:   # a virtual server the pool does not run (none here yet)
            continue
        for rs in vs.real_server:
            if rs.address is None:
                continue
            rkey = specmod.rs_key(vs, rs)
            if not pool.has_server(vkey, rkey):
                continue
            ref = plan.rs_ref(vs, rs)
            alive[ref] = pool.alive(vkey, rkey)
            if alive[ref] and rkey in dests:
                weights[ref] = dests[rkey]
    return plan.LiveState(alive, weights, quorum_up)


def ipvs_failure_line(f: OpFailure) -> str:
    """keepalived's ipvs_talk() error line, with the operation named our way."""
    return f"IPVS ({type(f.op).__name__}, errno {f.errno}): {f.message}"


class CheckRuntime:
    """Runs one configuration's checkers against one IpvsPort; see the module docstring.

    `run_checkers` False: the scheduler is built and started but its loop is not run (unit
    tests drive `scheduler.apply()` with a fake clock)."""

    def __init__(self, port: IpvsPort, clock: Any, log: Callable[[str], None], *,
                 runner: ScriptRunner | None = None, notifier: CheckNotifier | None = None,
                 probe_for: Callable = default_probe_for, rand: Callable[[], float] = random.random,
                 dont_release: bool = False, run_checkers: bool = True, max_in_flight: int = 512,
                 log_detail: bool = False) -> None:
        self.port = port
        self.clock = clock
        self.log = log
        self.runner = runner or ScriptRunner(log_fn=log)
        self.notifier = notifier or CheckNotifier(self.runner, log)
        self.probe_for = probe_for
        self.rand = rand
        self.dont_release = dont_release
        self.run_checkers = run_checkers
        self.max_in_flight = max_in_flight
        self.log_detail = log_detail
        self.config: KeepalivedConfig | None = None
        self.scheduler: Scheduler | None = None
        #: the last table we asked the port for, and old configurations' keys after a reload
        self.applied: Table = Table()
        self._retired: Owned = Owned()
        self._dirty = False
        self._accepting = False
        self._sync_task: asyncio.Task | None = None
        self._run_task: asyncio.Task | None = None
        self.reconciles = 0
        self.failures = 0
        self.addresses: set[str] | None = None
        #: a reload has happened (keepalived's dumps show 'reloaded')
        self.reloaded = False
        self._suspended_keys: set = set()
        #: the bfd child's last report per bfd_instance (BFD_CHECK), heard again at start and reload
        self.bfd_states: dict[str, bool] = {}
        self._stopping = False

    # ------------------------------------------------------------------ views
    @property
    def pool(self) -> Pool:
        assert self.scheduler is not None
        return self.scheduler.pool

    def desired(self) -> Table:
        return plan.desired_table(self.config, live_state(self.config, self.pool))

    def owned(self) -> Owned:
        return plan.possible_entries(self.config) | Owned.of(self.applied) | self._retired

    # ------------------------------------------------------------------ decisions
    def _emit(self, decisions: Iterable[Decision]) -> None:
        for d in decisions:
            if isinstance(d, Log):
                self.log(d.text)
            elif isinstance(d, DestChanged):
                self._dirty = True
            elif isinstance(d, NotifyRs | NotifyVs | SmtpAlert):
                self.notifier.handle(d)
        if self._dirty and self._accepting:
            self._kick()

    def _kick(self) -> None:
        if self._sync_task is None or self._sync_task.done():
            self._sync_task = asyncio.get_running_loop().create_task(self._sync_loop())

    async def _sync_loop(self) -> None:
        while self._dirty and self._accepting:
            self._dirty = False
            await self._reconcile()

    async def sync(self) -> None:
        """Reconcile now if anything changed, and wait until the table is up to date."""
        while (self._sync_task is not None and not self._sync_task.done()) or self._dirty:
            if self._sync_task is not None and not self._sync_task.done():
                await self._sync_task
            elif self._dirty:
                self._dirty = False
                await self._reconcile()

    def _report(self, outcome: reconcile.Outcome, desired: Table) -> None:
        self.reconciles += 1
        self.applied = desired
        for f in outcome.failures:
            self.failures += 1
            self.log(ipvs_failure_line(f))
        if not outcome.failures:
            self._retired = Owned()

    async def _reconcile(self) -> None:
        desired = self.desired()
        try:
            outcome = await reconcile.reconcile(self.port, desired, self.owned())
        except OSError as exc:
            self.failures += 1
            self.log(f"IPVS: unable to reconcile the table: {exc}")
            return
        self._report(outcome, desired)

    # ------------------------------------------------------------------ lifecycle
    def _build(self, config: KeepalivedConfig) -> tuple[list, list]:
        servers, specs = specmod.build(config)
        return servers, specs

    async def start(self, config: KeepalivedConfig, addresses: set[str] | None = None) -> None:
        """Scripts and FIFOs, the pool's start, the kernel (lvs_timeouts, lvs_flush, our
        table adopted), then the checkers. `addresses`: the host's addresses, for ha_suspend
        (None: nothing is suspended)."""
        servers, specs = self._build(config)
        gd = config.global_defs
        self.config = config
        await self.notifier.start(config)
        pool = Pool(servers, rs_init_notifies=bool(gd and gd.rs_init_notifies),
                    no_checker_emails=bool(gd and gd.no_checker_emails))
        self.log("Initializing ipvs")
        try:  # init_ssl_ctx(), before any checker runs; keepalived stops fatally when it fails
            ssl_context = tls.for_config(config)
        except tls.SslSetupError as exc:
            for line in exc.lines:
                self.log(line)
            raise SystemExit(1) from None  # KEEPALIVED_EXIT_FATAL: the parent stops too
        self.scheduler = Scheduler(specs, pool, clock=self.clock, emit=self._emit, rand=self.rand,
                                   resources=Resources(runner=self.runner, ssl_context=ssl_context), probe_for=self.probe_for,
                                   max_in_flight=self.max_in_flight,
                                   max_launched=fdlimit.launch_bound(len(specs), self.max_in_flight),
                                   log_all=bool(gd and gd.checker_log_all_failures))
        self.addresses = addresses
        self._apply_suspension()
        self.scheduler.start()
        self.log("Activating BFD healthchecker")
        self._replay_bfd()
        self._dirty = False
        desired = self.desired()
        try:
            outcome = await reconcile.start(self.port, config, desired, self.owned())
            self._report(outcome, desired)
        except OSError as exc:
            self.failures += 1
            self.log(f"IPVS: unable to program the table: {exc}")
        self._accepting = True
        if self._dirty:
            self._kick()
        if self.run_checkers:
            self._run_task = asyncio.get_running_loop().create_task(self.scheduler.run())

    async def reload(self, config: KeepalivedConfig) -> None:
        """A validated new configuration: checker and pool state carried over (check.reload),
        the table changed by difference; the old configuration's keys stay ours until then."""
        assert self.scheduler is not None
        servers, specs = self._build(config)       # raises before anything changed
        try:  # the SSL block read again; an unusable one refuses the reload (keepalived stops)
            ssl_context = tls.for_config(config)
        except tls.SslSetupError as exc:
            raise ValueError("; ".join(exc.lines[:-1])) from None
        self.scheduler.resources = dataclasses.replace(self.scheduler.resources, ssl_context=ssl_context)
        old = self.config
        self._retired = self._retired | plan.possible_entries(old) | Owned.of(self.applied)
        self.config = config
        await self.notifier.reload(config)
        gd = config.global_defs
        timeouts = reconcile.timeouts_of(gd)
        if timeouts is not None and timeouts != reconcile.timeouts_of(old.global_defs):
            try:
                await self.port.set_timeouts(timeouts)
            except OSError as exc:
                self.log(f"IPVS: unable to set timeouts: {exc}")
        self.scheduler.log_all = bool(gd and gd.checker_log_all_failures)
        self.scheduler.max_launched = fdlimit.launch_bound(len(specs), self.max_in_flight)
        self._dirty = True
        self.scheduler.reload(specs, servers)
        self.log("Activating BFD healthchecker")   # start_check() -> register_checkers_thread() again
        self._replay_bfd()
        self.reloaded = True
        self._apply_suspension()
        self._kick()
        await self.sync()

    def _apply_suspension(self) -> None:
        """ha_suspend: checkers of a virtual server whose address is not on this host are
        suspended (update_checker_activity); the others run."""
        assert self.scheduler is not None
        targets = addrwatch.ha_suspend_targets(self.config)
        off = addrwatch.suspended(targets, self.addresses) if self.addresses is not None else set()
        for key in set(targets) | self._suspended_keys:
            self.scheduler.suspend(key, key in off)
        self._suspended_keys = off

    def addresses_changed(self, addresses: set[str]) -> None:
        """The host's addresses changed (an address watch). With -D, keepalived names each
        change of an ha_suspend virtual server's address ("Netlink reflector reports ...")."""
        if self.log_detail and self.config is not None and self.addresses is not None:
            for addr in sorted(set(addrwatch.ha_suspend_targets(self.config).values())):
                if (addr in addresses) != (addr in self.addresses):
                    self.log(f"Netlink reflector reports IP {addr} {'added' if addr in addresses else 'removed'}")
        self.addresses = addresses
        if self.scheduler is not None:
            self._apply_suspension()

    def bfd_event(self, name: str, up: bool) -> None:
        """The bfd child says a bfd_instance is Up or Down: its BFD_CHECKs follow (kinds/bfd.py)."""
        self.bfd_states[name] = up
        if self.scheduler is not None and not self._stopping:
            self._emit(bfd_kind.deliver(self.scheduler.specs, self.scheduler.states, self.pool, name, up))

    def _replay_bfd(self) -> None:
        """Reports heard before a start or reload reach the (new) BFD_CHECKs."""
        for name, up in list(self.bfd_states.items()):
            self.bfd_event(name, up)

    async def stop(self) -> None:
        """The checkers stop, the pool clears (its lines, omega notifies), then our table
        leaves the kernel unless -I."""
        self._accepting = False
        self._stopping = True
        if self._sync_task is not None:
            await asyncio.gather(self._sync_task, return_exceptions=True)
        if self.scheduler is not None:
            await self.scheduler.stop()
        if self._run_task is not None:
            await asyncio.gather(self._run_task, return_exceptions=True)
        if self.config is not None:
            try:
                outcome = await reconcile.stop(self.port, self.config, self.owned(), self.dont_release)
                for f in outcome.failures:
                    self.log(ipvs_failure_line(f))
            except OSError as exc:
                self.log(f"IPVS: unable to remove our table: {exc}")
        await self.notifier.stop()
        await self.port.close()
