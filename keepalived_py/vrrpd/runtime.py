"""The VRRP runtime: sans-IO instances (machine.py, sync_group.py) joined to the world.

- events in: adverts from the socket pool (sockets.py), link changes (net port events),
  tracker reports (trackers.py, when present), timers (loop.call_at on the clock);
- actions out: adverts are sent at once on the pool socket; address/route/rule changes and
  GARP/NA go through one ordered queue of typed ops (ops.py: netlink is async, order must
  hold: a VIP removed after it was added, never before); so does the no_accept /
  vrrp_strict filter (net/nft.py): set before a MASTER's VIPs come, removed after they go;
  notify goes to the Notifier, and to the mailer (mail.py) for smtp_alert.

Instances are keyed by (interface, vrid, family) as keepalived.conf names them; a reload
applies the pure diff of reload.py (unchanged instances alone, removed ones stopped,
changed and new ones started). Dumps read the core's frozen snapshots (snapshots()).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from ipaddress import ip_interface
from typing import Any

from keepalived_py.config.model.root import KeepalivedConfig
from keepalived_py.net.garp import PacketSender
from keepalived_py.net.ports import AddressSpec, NetPort
from keepalived_py.net.vmac import PromoteSecondaries, VmacSysctls, make_link
from keepalived_py.track.events import RunNotify as Notify
from keepalived_py.vrrp.actions import (
    Action,
    AddAddresses,
    AddRoutes,
    AddRules,
    Log,
    PacketDropped,
    RemoveAddresses,
    RemoveRoutes,
    RemoveRules,
    RunNotify,
    SendAdvert,
    SendGarp,
    SendNa,
    SetTimer,
)
from keepalived_py.vrrp.events import (
    Event,
    InterfaceDown,
    Start,
    Stop,
    TrackingChanged,
)
from keepalived_py.vrrp.lateness import LatenessHistogram
from keepalived_py.vrrp.machine import ADVERT_TIMER, GARP_DELAY_TIMER, State, VrrpInstance
from keepalived_py.vrrp.packet import IPPROTO_AH, IPPROTO_VRRP, AuthType
from keepalived_py.vrrp.snapshot import InstanceSnapshot
from keepalived_py.vrrp.sync_group import SyncGroup
from keepalived_py.vrrpd.adopt import StateFile, config_digest
from keepalived_py.vrrpd.drop_log import DropLogLimiter
from keepalived_py.vrrpd.dynamic_if import DynamicIfMixin, placeholder_address
from keepalived_py.vrrpd.firewall import FirewallFollower
from keepalived_py.vrrpd.kernel_queue import KernelQueue
from keepalived_py.vrrpd.link_delays import LinkDelays
from keepalived_py.vrrpd.link_updates import LinkUpdates
from keepalived_py.vrrpd.link_updates import Sender as LinkSender
from keepalived_py.vrrpd.ops import (
    AddAddress,
    AddRoute,
    AddRule,
    LinkUpdate,
    Mark,
    RemoveAddress,
    RemoveRoute,
    RemoveRule,
    undo,
)
from keepalived_py.vrrpd.plan import (
    IFA_F_NODAD,
    InstancePlan,
    Key,
    garp_delays,
    plan_all,
    static_addresses,
    sync_groups,
)
from keepalived_py.vrrpd.reload_apply import ReloadMixin
from keepalived_py.vrrpd.resume import ResumeMixin
from keepalived_py.vrrpd.running import LoopScheduler, Running, RuntimeCounters, rx_buf_bytes
from keepalived_py.vrrpd.sockets import SocketPool
from keepalived_py.vrrpd.syncd import NetlinkSyncd, SyncdFollower
from keepalived_py.vrrpd.timers import TimersMixin
from keepalived_py.vrrpd.wire import WireMixin

_ANCHORED = frozenset({ADVERT_TIMER, GARP_DELAY_TIMER})
_PLAIN = frozenset({SendAdvert, SetTimer, Log, PacketDropped})  # no state, address or GARP work
_LEVELS = {"INFO": logging.INFO, "WARNING": logging.WARNING, "ERROR": logging.ERROR,
           "DEBUG": logging.DEBUG}


class VrrpRuntime(WireMixin, ResumeMixin, TimersMixin, DynamicIfMixin, ReloadMixin):
    def __init__(self, net: NetPort, clock, log: logging.Logger, *, sender: PacketSender | None = None,
                 socket_opener=None, notifier: Any = None, loop: asyncio.AbstractEventLoop | None = None,
                 release_on_stop: bool = True, scheduler: Any = None, vmac_sysctls: Any = None,
                 wall_clock: Callable[[], float] = time.time, firewall_factory: Callable[[], Any] | None = None,
                 mail: Any = None, log_detail: bool = False, syncd_factory: Any = NetlinkSyncd,
                 promote: Any = None, resume: bool = False, state_file: StateFile | None = None) -> None:
        """`firewall_factory` makes the nftables filter (net/nft.py NftFirewall) the first
        time a configuration needs one; `mail` (mail.py VrrpMail) hears every notify.
        `resume`: a predecessor's MASTER instances may be resumed (resume.py), judged on
        what it left and on `state_file`, which this runtime keeps for its successor."""
        self.net = net
        self.clock = clock
        # keepalived's timer_now(): the monotonic clock plus the realtime offset read once,
        # so every dump of one transition prints the same timestamp
        self._wall_offset = wall_clock() - clock.now()
        self.log = log
        self.loop = loop or asyncio.get_running_loop()
        self.scheduler = scheduler if scheduler is not None else LoopScheduler(self.loop, clock)
        self.sender = sender if sender is not None else PacketSender()
        kw = {"opener": socket_opener} if socket_opener is not None else {}
        self.pool = SocketPool(self.loop, self._on_packet, **kw)
        self.notifier = notifier
        self.release_on_stop = release_on_stop
        self.instances: dict[Key, Running] = {}
        self.by_name: dict[str, Running] = {}
        self.dispatch: dict[tuple[str, int, int], Running] = {}  # (rx ifname, family, vrid)
        self.groups: dict[str, SyncGroup] = {}
        self.counters = RuntimeCounters()
        self.link_up: dict[str, bool] = {}
        self.links = LinkUpdates(net, self.sender, clock, self.scheduler, log, self.loop,
                                 lambda ifname: (("if", ifname), 0.0, 0.0), self._link_sender)
        self.link_delays = LinkDelays(self.scheduler, clock, log.info, self._netlink_change)
        self._ranks: dict[str, int] = {}
        self.kernel = KernelQueue(net, log, self.loop, link_update=self.links.burst, on_error=self._netlink_error)
        self._watch: asyncio.Task | None = None
        self._static: list[AddAddress | AddRoute | AddRule] = []
        self.config: KeepalivedConfig | None = None
        self._stopping = False
        self.log_unknown_vrids = False
        self._drop_log = DropLogLimiter()
        self.vmac_sysctls = vmac_sysctls if vmac_sysctls is not None else VmacSysctls()
        self.mail = mail
        self.promote = promote if promote is not None else PromoteSecondaries()
        self._anchoring: set[str] = set()
        self.lateness_advert = LatenessHistogram()  # timers.py: send time minus deadline
        self.lateness_master_down = LatenessHistogram()
        self._due: tuple[str, float, bool] | None = None
        self._slot_fill: dict[float, int] = {}  # timers.py: instances given each advert slot
        #: each tracker's last report, heard again by an instance a reload rebuilds
        self._tracking_seen: dict[tuple[str, str], TrackingChanged] = {}
        self.syncd = SyncdFollower(self.kernel, syncd_factory)
        self.firewall = FirewallFollower(self.kernel, log, firewall_factory, self._filters, log_detail)
        self.resume = resume
        self.state_file = state_file

    # ================================================================== lifecycle
    async def start(self, config: KeepalivedConfig, disabled: set[tuple[str, str]] = frozenset()) -> None:
        """`disabled`: (kind, name) of tracked objects the trackers dropped (keepalived
        removes them from the instances: nothing waits for them)."""
        self.config = config
        self.set_dynamic_interfaces(config)
        self.kernel.start()
        await self._apply_static(config)
        plans = plan_all(config, disabled)
        runs = []
        for key, plan in plans.items():
            run = await self._create(plan)
            if run is not None:
                self.instances[key] = run
                runs.append(run)
        self._build_groups(config)
        for run in runs:
            # what the trackers reported before the instances existed (the track files,
            # read first as keepalived's init_track_files does)
            self._seed_tracking(run)
        await self._resume_decisions(runs)
        self._configure_extras(config, start=True)
        self._watch = self.loop.create_task(self._watch_links())
        for run in runs:
            if not run.resume:
                self._clear_leftovers(run)
        for run in runs:
            if run.resume:  # no startup delay: the predecessor's adverts have stopped
                self._begin_resume(run)
        runs = [run for run in runs if not run.resume]
        g = config.global_defs
        self.log_unknown_vrids = bool(g is not None and g.log_unknown_vrids)
        # vrrp_startup_delay, or what is left of vrrp_delay_after_boot (keepalived 2.4.0) since boot
        delay = g.effective_startup_delay(time.clock_gettime(time.CLOCK_BOOTTIME)) if g is not None else 0.0
        if delay > 0:
            self.log.info(f"Delaying startup for {delay:g} seconds")
            self.scheduler.call_at(self.clock.now() + delay, self._delayed_start, runs)
        else:
            self._delayed_start(runs)
        self.write_state()

    def _delayed_start(self, runs: list[Running]) -> None:
        """keepalived's start order: vrrp_complete_init() notifies every instance already
        in FAULT (its own fault, or its sync group's), in config order; then
        vrrp_init_state() notifies the groups in BACKUP or FAULT and starts the others
        (seen on keepalived 2.2.7's FIFO: 'INSTANCE "VI_1" FAULT', 'INSTANCE "VI_2" FAULT',
        then 'GROUP "G1" FAULT')."""
        groups = {id(r.sync): r.sync for r in runs if r.sync is not None}.values()
        fronts = [act for group in groups for act in group.begin()]
        runs = [run for run in runs if not self._stopping and self.by_name.get(run.name) is run]
        faulted = [run for run in runs if run.machine.has_own_fault()
                   or (run.sync is not None and run.sync.state == State.FAULT)]
        for run in faulted:
            self._start_instance(run)
        self._execute(fronts)
        for run in runs:
            if run not in faulted and not self._stopping and self.by_name.get(run.name) is run:
                self._start_instance(run)

    async def stop(self, quiet: bool = False) -> None:
        """`quiet` (Stop(release=False), an in-place restart): leave everything as it is -
        VIPs, routes, rules, static entries, the filter, the sync daemon - send nothing
        and notify nothing; the successor resumes (resume.py)."""
        self._stopping = True
        if not quiet:
            self.syncd.stop()  # vrrp_terminate_phase1: before the instances are released
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._watch
        await self.cancel_attaches()
        if quiet:
            self.log.info("Stopping without releasing: addresses, routes and rules stay for the next vrrp process")
            for run in self.instances.values():
                self._cancel_timers(run)
        else:
            self._release_all()
        await self._drain(3.0)
        self.flush_state()  # the last states (STOP; or MASTER kept, quiet) for the successor
        self.links.cancel()
        self.link_delays.cancel_all()
        for run in list(self.instances.values()):
            await self._destroy(run, remove_vmac=self.release_on_stop and not quiet)
        self.instances.clear()
        await self.kernel.stop()
        self.pool.close()
        self.sender.close()
        with contextlib.suppress(Exception):
            await self.net.close()

    def _release_all(self) -> None:
        for run in list(self.instances.values()):
            if self.release_on_stop:
                self._deliver(run, Stop())
            else:
                # -V: keepalived keeps the VIPs and sends no priority 0 advert, but its
                # notify_shutdown() still runs every instance's STOP notifies
                self._execute([Notify("INSTANCE", run.name, State.STOP.value, run.machine.effective_priority)])
            self._cancel_timers(run)
        # notify_shutdown: every instance's STOP, then every sync group's (with -V too)
        for group in self.groups.values():
            if group.members:
                self._execute(group.stop())
        # vrrp_terminate_phase1 clears the static entries whatever -V says
        for added in reversed(self._static):
            self.kernel.put(undo(added))
        # firewall_fini(): our tables go, with -V too (after the VIPs, as the filter's
        # last state change was queued after them)
        self.firewall.stop()

    # ================================================================== instances
    async def _create(self, plan: InstancePlan) -> Running | None:
        try:
            if await self.vmac_base_missing(plan):
                return None
            if plan.vmac is not None:
                await make_link(self.net, plan.vmac)  # use_vmac's macvlan or use_ipvlan's ipvlan
                self.vmac_sysctls.apply(plan.vmac.name, plan.vmac.base)
            for extra in plan.addr_vmacs:  # use_vmac_addr / a VIP's use_vmac (plan._addr_vmac)
                await make_link(self.net, extra)
                self.vmac_sysctls.apply(extra.name, extra.base)
            link = await self.net.link(plan.interface)
            xlink = link if plan.xmit_interface == plan.interface else await self.net.link(plan.xmit_interface)
            if (link is None or xlink is None) and self.waits_for_interface(plan):
                link = None  # dynamic_interfaces (dynamic_if.py): in FAULT until it comes
            elif link is None or xlink is None:
                self.log.error(f"({plan.name}) interface {plan.interface} not found - instance ignored")
                return None
            primary = plan.source
            if link is None:
                primary = primary or placeholder_address(plan.family)
            elif primary is None:
                primary = await self._primary_address(plan.key[0], plan.family, set(plan.addresses))
            if plan.vmac is not None and plan.family == 6 and not plan.vmac.xmit_base and primary is not None:
                # keepalived's set_link_local_address(): adverts leave the VMAC from a
                # non-VIP address, the base's link-local (or the configured source)
                await self.net.add_address(AddressSpec(plan.vmac.name, ip_interface(f"{primary}/64"),
                                                       flags=IFA_F_NODAD))
            params = plan.params(primary)
        except Exception as exc:  # noqa: BLE001 - one bad instance must not stop the others
            self.log.error(f"({plan.name}) cannot set up: {exc}")
            return None
        machine = VrrpInstance(params, plan.tracked, created_at=self.clock.now())
        if any(o.kind == "config" and o.name == "unicast_fault_no_peer" for o in plan.tracked):
            self.log.info(f"({plan.name}) Cannot use unicast without any peers - going to fault state")
        run = Running(plan, machine)
        run.digest = config_digest(params)
        if plan.model.promote_secondaries and plan.family == 4:
            self.promote.apply(plan.interface)
        proto = IPPROTO_AH if params.auth_type == AuthType.AH else IPPROTO_VRRP
        group = None if params.unicast else params.mcast_group
        run.group_joined = group
        run.rx_buf = rx_buf_bytes(plan)
        if link is not None:
            run.rx = self.pool.acquire(plan.interface, link.index, plan.family, proto, group, run.rx_buf)
            if plan.xmit_interface != plan.interface:
                run.tx = self.pool.acquire(plan.xmit_interface, xlink.index, plan.family, proto)
            else:
                run.tx = run.rx
        else:
            self.wait_for_interface(run)
        self.by_name[plan.name] = run
        self.dispatch[(plan.interface, plan.family, params.vrid)] = run
        self.link_up[plan.interface] = link is not None and link.up
        if link is not None:
            self.link_delays.known(plan.interface, link.flags)
        if link is None or not link.up:
            machine.handle(InterfaceDown(plan.interface), self.clock.now())
        for obj in plan.tracked:
            if obj.kind == "interface":
                info = await self.net.link(obj.name)
                up = info is not None and info.up
                self.link_up[obj.name] = up
                if info is not None:
                    self.link_delays.known(obj.name, info.flags)
                else:
                    self.note_missing(obj.name)
                if not up:
                    machine.handle(InterfaceDown(obj.name), self.clock.now())
        machine.take_actions()
        return run

    async def _primary_address(self, ifname: str, family: int, vips: set = frozenset()):
        """The interface's first address of the family (IPv6: its link-local), never one
        of the instance's VIPs (a crashed predecessor may have left them: keepalived must
        not use them as advert source either)."""
        addrs = [a for a in await self.net.addresses(ifname, family) if a.ip not in vips]
        if family == 6:
            ll = [a.ip for a in addrs if a.ip.is_link_local]
            if ll:
                return ll[0]
        return addrs[0].ip if addrs else None

    def _clear_leftovers(self, run: Running) -> None:
        """keepalived at start (not on reload) removes VIPs a crashed predecessor left on a
        physical interface (vrrp.c: vipset forced, then restore_interface): they must not
        be used as advert source addresses nor be held by a backup."""
        for spec in run.plan.addresses.values():
            self.kernel.put(RemoveAddress(spec, run.name))

    def _start_instance(self, run: Running) -> None:
        self._deliver(run, Start())

    async def _destroy(self, run: Running, remove_vmac: bool) -> None:
        self._cancel_timers(run)
        if run.rx is not None:
            self.pool.release(run.rx, run.group_joined, run.rx_buf)
        if run.tx is not None and run.tx is not run.rx:
            self.pool.release(run.tx)
        run.rx = run.tx = None
        self.by_name.pop(run.name, None)
        self.dispatch = {k: v for k, v in self.dispatch.items() if v is not run}
        if run.sync is not None:
            run.sync.members.pop(run.name, None)
            run.sync = None
        if run.plan.model.promote_secondaries and run.plan.family == 4:
            self.promote.release(run.plan.interface)
        if remove_vmac and run.plan.vmac is not None:
            with contextlib.suppress(Exception):
                await self.net.delete_link(run.plan.vmac.name)
            self.vmac_sysctls.release(run.plan.vmac.base)
        for extra in run.plan.addr_vmacs if remove_vmac else ():
            with contextlib.suppress(Exception):
                await self.net.delete_link(extra.name)
            self.vmac_sysctls.release(extra.base)

    def _rebuild_index(self) -> None:
        self.by_name = {r.name: r for r in self.instances.values()}
        self.dispatch = {(r.plan.interface, r.plan.family, r.machine.params.vrid): r
                         for r in self.instances.values()}

    def _build_groups(self, config: KeepalivedConfig, only: list[Running] | None = None) -> None:
        for name, members, tracked in sync_groups(config):
            runs = [self.by_name[m] for m in members if m in self.by_name]
            if only is not None and not any(r in only for r in runs):
                continue
            runs = [r for r in runs if r.sync is None]
            if not runs:
                continue
            group = SyncGroup(name, [r.machine for r in runs], tracked)
            self.groups[name] = group
            for r in runs:
                r.sync = group

    def _begin_groups(self, runs: list[Running]) -> None:
        """vrrp_init_state(): the new sync groups notify their first state before any
        instance starts."""
        for group in {id(r.sync): r.sync for r in runs if r.sync is not None}.values():
            self._execute(group.begin())

    # ================================================================== events
    def _deliver(self, run: Running, event: Event) -> list[Action]:
        now = self.clock.now()
        resuming = run.machine.resuming
        try:
            if run.sync is not None and run.name in run.sync.members:
                actions = run.sync.handle(run.name, event, now)
            else:
                actions = run.machine.handle(event, now)
        except Exception:  # noqa: BLE001 - a bug in one event must not kill the daemon
            self.log.exception(f"({run.name}) error handling {type(event).__name__}")
            return []
        self._execute(actions)
        if resuming:
            self._resumed(run, resuming)
        return actions

    def _cancel_timers(self, run: Running) -> None:
        for handle in run.timers.values():
            handle.cancel()
        run.timers.clear()
        run.deferred.clear()

    # ================================================================== actions
    def _execute(self, actions: list[Action]) -> None:
        for a in actions:
            if type(a) not in _PLAIN:
                break
        else:
            # the steady advert path (an advert, the next timer): nothing to order around
            for act in actions:
                try:
                    self._execute_one(act)
                except Exception:  # noqa: BLE001
                    self.log.exception(f"error executing {type(act).__name__}")
            return
        # the filter follows the instance's state, set before a MASTER's VIPs are added
        # and removed after a leaving MASTER's VIPs are gone (vrrp_handle_accept_mode)
        states = self.firewall.states(actions)
        self.firewall.before(states)
        # a master transition (VIPs and GARP/NA in one batch): keepalived re-arms its advert
        # and garp_delay timers once the addresses are set and the frames sent, so their
        # time counts from then (vrrp_state_master_tx)
        adding = {a.instance for a in actions if isinstance(a, AddAddresses)}
        self._anchoring = {a.instance for a in actions if isinstance(a, SendGarp | SendNa)} & adding
        for act in actions:
            try:
                self._execute_one(act)
            except Exception:  # noqa: BLE001
                self.log.exception(f"error executing {type(act).__name__}")
        self.firewall.after(states)
        if states:
            self.syncd.states(states)
            self.write_state()
        anchoring, self._anchoring = self._anchoring, set()
        for name in anchoring:
            self.kernel.put(Mark(lambda n=name, t0=self.clock.now(): self._arm_deferred(n, t0), name))

    def _configure_extras(self, config: KeepalivedConfig, start: bool) -> None:
        """GARP pacing, smtp_alert and the nftables filter follow the configuration."""
        self.links.set_delays(garp_delays(config))
        self.link_delays.configure(config, [r.plan for r in self.instances.values()])
        self._ranks = {inst.name: n for n, inst in enumerate(config.vrrp_instance)}
        if self.mail is not None:
            try:
                self.mail.configure(config)
            except Exception:  # noqa: BLE001
                self.log.exception("smtp_alert configuration failed")
        masters = [r.name for r in self.instances.values() if r.machine.state == State.MASTER]
        self.firewall.configure(config, start, masters)
        self.syncd.configure(config, start)

    def _execute_one(self, act: Action) -> None:
        match act:
            case SetTimer(instance=name, timer=timer, at=at):
                run = self.by_name.get(name)
                if run is None:
                    return
                old = run.timers.pop(timer, None)
                if old is not None:
                    old.cancel()
                run.deferred.pop(timer, None)
                if at is not None and name in self._anchoring and timer in _ANCHORED:
                    run.deferred[timer] = at
                elif at is not None and not self._stopping:
                    run.timers[timer] = self.scheduler.call_at(at, self._timer_fired, name, timer, at)
            case SendAdvert():
                if self._due is not None:
                    self._observe_lateness(act.instance)
                self._send_advert(act)
            case Log(message=msg, level=level):
                self.log.log(_LEVELS.get(level, logging.INFO), msg)
            case PacketDropped(instance=name, reason=reason, message=msg):
                if self._drop_log_allowed(name, reason):
                    self.log.info(msg)
            case RunNotify():
                if self.mail is not None:
                    try:
                        self.mail.notify(act)
                    except Exception:  # noqa: BLE001
                        self.log.exception("smtp_alert failed")
                if self.notifier is not None:
                    try:
                        self.notifier.handle(act)
                    except Exception:  # noqa: BLE001
                        self.log.exception("notify failed")
            case AddAddresses(instance=name, addresses=addrs):
                run = self.by_name.get(name)
                for a in addrs:
                    self.kernel.put(AddAddress(self._spec(run, act.interface, a), name))
            case RemoveAddresses(instance=name, addresses=addrs):
                run = self.by_name.get(name)
                for a in addrs:
                    self.kernel.put(RemoveAddress(self._spec(run, act.interface, a), name))
            case AddRoutes(instance=name, routes=keys) | RemoveRoutes(instance=name, routes=keys):
                run = self.by_name.get(name)
                route_op = AddRoute if isinstance(act, AddRoutes) else RemoveRoute
                for k in keys:
                    if run is not None and k in run.plan.routes:
                        self.kernel.put(route_op(run.plan.routes[k], name))
            case AddRules(instance=name, rules=keys) | RemoveRules(instance=name, rules=keys):
                run = self.by_name.get(name)
                rule_op = AddRule if isinstance(act, AddRules) else RemoveRule
                for k in keys:
                    if run is not None and k in run.plan.rules:
                        self.kernel.put(rule_op(run.plan.rules[k], name))
            case SendGarp() | SendNa():
                self.kernel.put(LinkUpdate(act))

    def _filters(self, name: str) -> bool:
        run = self.by_name.get(name)
        return run is not None and not run.plan.accept and run.machine.base_priority != 255

    @staticmethod
    def _spec(run: Running | None, ifname: str, addr) -> AddressSpec:
        if run is not None and addr in run.plan.addresses:
            return run.plan.addresses[addr]
        return AddressSpec(ifname, ip_interface(f"{addr}/{addr.max_prefixlen}"))

    # ---------------------------------------------------------------- ordered netlink work
    async def _drain(self, timeout: float) -> None:
        await self.kernel.drain(timeout)

    def _link_sender(self, name: str) -> LinkSender | None:
        """What link_updates.py needs of an instance: its rank, its VIPs' interfaces."""
        run = self.by_name.get(name)
        if run is None:
            return None
        plan = run.plan
        p = run.machine.params
        order = {a: i for i, a in enumerate(p.virtual_ipaddress + p.virtual_ipaddress_excluded)}
        bases = {r.plan.vmac.name: r.plan.vmac.base for r in self.instances.values() if r.plan.vmac is not None}
        rank = self._ranks.get(name, len(self._ranks))
        return LinkSender(rank, lambda a: order.get(a, len(order)),
                          lambda a: plan.addresses[a].ifname if a in plan.addresses else p.interface,
                          lambda ifname: bases.get(ifname, ifname),
                          lambda: run.machine.state == State.MASTER and run.machine.vipset)

    def _netlink_error(self) -> None:
        self.counters.netlink_errors += 1

    # ---------------------------------------------------------------- static config
    async def _apply_static(self, config: KeepalivedConfig) -> None:
        self._static = [AddAddress(spec, "static") for spec in static_addresses(config)]
        self._static += [AddRoute(r, "static") for r in config.static_routes]
        self._static += [AddRule(r, "static") for r in config.static_rules]
        for op in self._static:
            self.kernel.put(op)
        await self._drain(5.0)

    # ================================================================== views
    def snapshots(self) -> list[InstanceSnapshot]:
        """Every instance as the core sees it; the dumps name the configured interface
        (with use_vmac the core runs on the VMAC)."""
        return [dataclasses.replace(run.machine.snapshot(), interface=run.plan.key[0])
                for run in self.instances.values()]

    def wall_offset(self) -> float:
        """Seconds to add to a time on the runtime's monotonic clock to get wall-clock
        time (keepalived's dumps print wall-clock timestamps). Read once at start, as
        keepalived does: a stepped wall clock does not move past transitions."""
        return self._wall_offset

    def clear_stats(self) -> None:
        for run in self.instances.values():
            run.machine.clear_stats()

    def state_of(self, name: str) -> State | None:
        run = self.by_name.get(name)
        return run.machine.state if run is not None else None

