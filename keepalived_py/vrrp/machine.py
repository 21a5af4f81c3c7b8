"""The VRRP state machine of one instance, sans-IO: `handle(event, now) -> list[Action]`.

States INIT, BACKUP, MASTER, FAULT (and STOP after shutdown), with keepalived 2.2.7's
semantics (vrrp.c, vrrp_scheduler.c, vrrp_track.c), which refine RFC 3768 / RFC 5798 6.4:

- BACKUP waits Master_Down_Interval (timers.py) for adverts; a priority-0 advert cuts the
  wait to Skew_Time; an advert is accepted as the master's (timer restarted) when it has
  priority >= ours, or we do not preempt (nopreempt, or inside preempt_delay); a lower one
  is discarded, so the running timer makes us MASTER when it runs out.
- MASTER sends an advert every advert_int; on a lower-priority advert (or equal priority
  from a lower address) it sends one at once "forcing new election" (unless
  lower_prio_no_advert) and GARPs garp_lower_prio_repeat times; on a higher one (or equal
  priority from a higher address, RFC 5798 6.4.3) it releases its addresses -> BACKUP.
- Address owner (priority 255): MASTER at once on start and on recovery.
- FAULT: a tracked object failing (tracking.py) or the interface going down; a MASTER sends
  priority 0 on the way. Adverts are ignored in FAULT and INIT, as keepalived does.
All deadlines go out as SetTimer actions; a TimerExpired that is no longer due is ignored.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address

from keepalived_py.vrrp.actions import (
    Action,
    AddAddresses,
    AddRoutes,
    AddRules,
    Log,
    RemoveAddresses,
    RemoveRoutes,
    RemoveRules,
    RunNotify,
    SendAdvert,
    SendGarp,
    SendNa,
    SetTimer,
)
from keepalived_py.vrrp.ah import SEQ_MAX, build_ah_datagram
from keepalived_py.vrrp.events import (
    AdvertReceived,
    Event,
    InterfaceDown,
    InterfaceUp,
    Ipv4DatagramReceived,
    PacketReceived,
    Start,
    Stop,
    TimerExpired,
    TrackingChanged,
)
from keepalived_py.vrrp.packet import (
    VRRP_MCAST4,
    AuthType,
    Family,
    VrrpAdvert,
    checksum_as_v2,
    encode,
)
from keepalived_py.vrrp.params import PRIO_OWNER, VrrpInstanceParams
from keepalived_py.vrrp.receive import ReceiveMixin
from keepalived_py.vrrp.resume import ResumeMixin
from keepalived_py.vrrp.snapshot import InstanceSnapshot
from keepalived_py.vrrp.state import ADVERT_TIMER, GARP_DELAY_TIMER, LOWER_PRIO_GARP_TIMER, State
from keepalived_py.vrrp.stats import VrrpStats
from keepalived_py.vrrp.timers import deadline, late_takeover_us, master_down_us, skew_time_us
from keepalived_py.vrrp.tracking import TrackedObject, Tracking, clamp_priority

_EPSILON = 1e-9  # float slack when comparing a fired timer with its deadline


class VrrpInstance(ReceiveMixin, ResumeMixin):
    """One vrrp_instance. Mutable, but only through `handle`; everything it wants done in
    the world comes back as actions."""

    def __init__(self, params: VrrpInstanceParams, tracked: tuple[TrackedObject, ...] = (),
                 created_at: float | None = None) -> None:
        """`created_at`: the `now` at creation; keepalived stamps last_transition when it
        allocates an instance, so the dumps show it before the first state change."""
        self.params = params
        self.name = params.name
        objects = list(tracked)
        if not params.dont_track_primary:
            objects.insert(0, TrackedObject("interface", params.interface, 0))
        self.tracking = Tracking(tuple(objects))
        self.state = State.INIT
        self.wantstate = State.MASTER if params.is_owner else State.BACKUP
        self.base_priority = params.priority
        self.effective_priority = clamp_priority(self.base_priority, self.tracking.total_weight())
        self.master_adver_int_us = params.advert_int_us
        self.ms_down_timer_us = self._master_down()
        self.sands: float | None = None
        self.preempt_time: float | None = None
        self.vipset = False
        self.master_saddr: IPv4Address | IPv6Address | None = None
        self.master_priority = 0
        self.garp_refresh_at: float | None = None
        self.garp_extra_at: float | None = None
        self.old_checksum = params.old_unicast_checksum == "always"
        self.ip_id = 0  # keepalived numbers its IPv4 adverts itself (AH covers the id)
        self.ah_seq = 0  # keepalived's ipsecah_counter: our tx sequence and rx high-water mark
        self._stats = VrrpStats()
        self._pending: dict[str, int] = {}  # counts not yet folded into _stats (_count)
        self.started = False
        self.last_transition: float | None = created_at
        self.sync = None  # set by SyncGroup; duck-typed to avoid an import cycle
        self._out: list[Action] = []
        self._was_fault = bool(self.tracking.faults())
        self.resuming = False  # listening before resuming as MASTER (begin_resume)
        self._advert_cache: tuple | None = None  # (params, key, encoded advert): _encoded()
        self._send_cache: tuple | None = None  # (encoded advert, its SendAdvert): _send_advert()
        self._advert_us_cache: tuple | None = None  # (params, advert_int_us): _advert_us()

    # ----------------------------------------------------------------- counters
    @property
    def stats(self) -> VrrpStats:
        """The counters as one frozen value (snapshots keep it as it was)."""
        if self._pending:
            self._stats = self._stats.plus_many(self._pending)
            self._pending = {}
        return self._stats

    @stats.setter
    def stats(self, value: VrrpStats) -> None:
        self._stats = value
        self._pending = {}

    def _count(self, counter: str) -> None:
        """One more under `counter`, folded into the frozen value when it is read: the
        advert paths count on every advert, and a frozen copy each time was most of the
        machine's work per advert at hundreds of instances (issue 16)."""
        pending = self._pending
        pending[counter] = pending.get(counter, 0) + 1

    # ----------------------------------------------------------------- entry point
    def handle(self, event: Event, now: float) -> list[Action]:
        """Apply one event at time `now` (seconds, monotonic); return what to do."""
        match event:
            case Start():
                self._start(now)
            case Stop():
                self._stop(now)
            case PacketReceived(data=data, meta=meta):
                adv = self._decode(data, meta)
                if adv is not None:
                    self._receive(adv, meta, now)
            case Ipv4DatagramReceived(datagram=datagram, multicast=multicast):
                opened = self._open_datagram(datagram, multicast)
                if opened is not None:
                    adv = self._decode(opened[1], opened[0])
                    if adv is not None:
                        self._receive(adv, opened[0], now)
            case AdvertReceived(advert=adv, meta=meta):
                if self.state in (State.BACKUP, State.MASTER):
                    self._receive(adv, meta, now)
            case TimerExpired(timer=timer):
                self._timer(timer, now)
            case TrackingChanged(kind=kind, name=name, ok=ok, value=value):
                self._tracking(kind, name, ok, value, now)
            case InterfaceUp(ifname=ifname):
                self._tracking("interface", ifname, True, None, now)
            case InterfaceDown(ifname=ifname):
                self._tracking("interface", ifname, False, None, now)
            case _:
                raise TypeError(f"not a VRRP event: {event!r}")
        return self.take_actions()

    def take_actions(self) -> list[Action]:
        out, self._out = self._out, []
        return out

    # ----------------------------------------------------------------- helpers
    def _emit(self, action: Action) -> None:
        self._out.append(action)

    def _log(self, text: str) -> None:
        self._emit(Log(f"({self.name}) {text}"))

    def _notify(self, state: str) -> None:
        self._emit(RunNotify("INSTANCE", self.name, state, self.effective_priority))

    def _skew(self) -> int:
        return skew_time_us(self.params.version, self.effective_priority, self.master_adver_int_us)

    def _master_down(self) -> int:
        return master_down_us(self.params.version, self.effective_priority,
                              self.master_adver_int_us, self.params.down_timer_adverts)

    def _set_timer(self, timer: str, at: float | None) -> None:
        if timer == ADVERT_TIMER:
            self.sands = at
        self._emit(SetTimer(self.name, timer, at))

    def _set_state(self, state: State, now: float, log_suffix: str = "") -> None:
        self.state = state
        self.last_transition = now
        self._log(f"Entering {state.value} STATE{log_suffix}")

    def has_own_fault(self) -> bool:
        return bool(self.tracking.faults())

    def add_tracked(self, obj: TrackedObject) -> None:
        """Track one more object before start (a sync group's track_* lands here)."""
        self.tracking.add(obj)
        self.effective_priority = clamp_priority(self.base_priority, self.tracking.total_weight())
        self.ms_down_timer_us = self._master_down()
        self._was_fault = self.has_own_fault()

    # ----------------------------------------------------------------- sending
    def build_advert(self, priority: int) -> VrrpAdvert:
        p = self.params
        v2 = p.version == 2
        return VrrpAdvert(p.version, p.vrid, priority, p.advert_int_cs, p.virtual_ipaddress,
                          p.auth_type if v2 else AuthType.NONE, p.auth_data if v2 else b"")

    def _encoded(self, priority: int) -> tuple[VrrpAdvert, tuple, tuple[bytes, ...]]:
        """The advert and its encoded payloads, one per destination. A MASTER sends the
        same bytes every interval (the IPv4 id and AH sequence live outside them), so the
        last encoding is kept while priority, checksum mode and parameters are unchanged:
        the advert send path is the hot path at hundreds of instances (issue 16)."""
        p = self.params
        key = (priority, self.old_checksum)
        cached = self._advert_cache
        if cached is not None and cached[0] is p and cached[1] == key:
            return cached[2]
        adv = self.build_advert(priority)
        dsts = tuple(u.address for u in p.unicast_peers) or (p.mcast_group,)
        payloads = []
        for dst in dsts:
            # keepalived's pre-1.3.6 unicast checksum: pseudo-header with the mcast group
            csum_dst = VRRP_MCAST4 if (self.old_checksum and p.family is Family.INET) else dst
            payload = encode(adv, p.primary_address, csum_dst)
            if p.v3_checksum_as_v2 and p.version == 3 and p.family is Family.INET:
                payload = checksum_as_v2(payload)
            payloads.append(payload)
        out = (adv, dsts, tuple(payloads))
        self._advert_cache = (p, key, out)
        return out

    def _send_advert(self, priority: int) -> None:
        p = self.params
        adv, dsts, payloads = self._encoded(priority)
        datagrams: tuple[bytes, ...] = ()
        if p.family is Family.INET:
            self.ip_id = (self.ip_id + 1) & 0xFFFF or 1
        if p.auth_type == AuthType.AH:
            # keepalived never wraps: 2^32 adverts at >= 1 s each is 136 years
            self.ah_seq = min(self.ah_seq + 1, SEQ_MAX + 1)
            datagrams = tuple(
                build_ah_datagram(p.primary_address, dst, payload, p.auth_key, self.ah_seq,
                                  self.ip_id, p.unicast)
                for dst, payload in zip(dsts, payloads, strict=True))
        if datagrams:
            act = SendAdvert(self.name, p.interface, adv, p.primary_address, dsts, payloads, datagrams)
        else:
            # the same bytes as last time: the same (frozen) action, which lets the runtime
            # keep what it built to send it (wire.py)
            cached = self._send_cache
            if cached is not None and cached[0] is payloads:
                act = cached[1]
            else:
                act = SendAdvert(self.name, p.interface, adv, p.primary_address, dsts, payloads)
                self._send_cache = (payloads, act)
        self._emit(act)
        self._count("advert_sent")
        if priority == 0:
            self._count("pri_zero_sent")

    def _link_update(self, repeat: int) -> None:
        """keepalived's vrrp_send_link_update: GARP / NA for every VIP, `repeat` rounds."""
        if not self.vipset or repeat <= 0:
            return
        addrs = self.params.virtual_ipaddress + self.params.virtual_ipaddress_excluded
        v4 = tuple(a for a in addrs if a.version == 4)
        v6 = tuple(a for a in addrs if a.version == 6)
        if v4:
            self._emit(SendGarp(self.name, self.params.interface, v4, repeat))
        if v6:
            self._emit(SendNa(self.name, self.params.interface, v6, repeat))

    def _extra_if_update(self) -> None:
        """garp_extra_if: one GARP / NA on each extra interface (vrrp_send_vmac_update)."""
        if not self.vipset:
            return
        for ifname, addr in self.params.garp_extra_if:
            if addr.version == 4:
                self._emit(SendGarp(self.name, ifname, (addr,), 1))
            else:
                self._emit(SendNa(self.name, ifname, (addr,), 1))

    # ----------------------------------------------------------------- transitions
    def _start(self, now: float) -> None:
        if self.state not in (State.INIT, State.STOP):
            return
        self.started = True
        self.state = State.INIT
        self.wantstate = State.MASTER if self.base_priority == PRIO_OWNER else State.BACKUP
        self.master_adver_int_us = self.params.advert_int_us
        self._enter_running(now, " (init)")

    def _enter_running(self, now: float, suffix: str) -> None:
        """Leave INIT once nothing is pending: FAULT, MASTER (owner) or BACKUP."""
        if self.tracking.pending():
            return
        if self.sync is not None and self.sync.member_init_pending(self):
            return  # the last member to finish its init brings this one along
        if self.has_own_fault() or (self.sync is not None and not self.sync.may_leave_fault(self)):
            self.wantstate = State.FAULT
            self._set_state(State.FAULT, now, suffix)
            self._notify("FAULT")
            self._set_timer(ADVERT_TIMER, None)
            return
        if self.wantstate == State.MASTER and self.base_priority == PRIO_OWNER:
            self.goto_master(now)
            if self.state == State.MASTER:
                return
        self._set_state(State.BACKUP, now, suffix)
        self._notify("BACKUP")
        self.ms_down_timer_us = self._master_down()
        self._set_timer(ADVERT_TIMER, deadline(now, self.ms_down_timer_us))

    def goto_master(self, now: float, forced: bool = False) -> None:
        """keepalived's vrrp_state_goto_master: advert first, then addresses and GARP."""
        p = self.params
        if not forced and self.sync is not None and not self.sync.can_goto_master(self):
            self.wantstate = State.MASTER
            self.ms_down_timer_us = self._master_down()
            self._set_timer(ADVERT_TIMER, deadline(now, self.ms_down_timer_us))
            return
        self.wantstate = State.MASTER
        self._set_state(State.MASTER, now)
        self._send_advert(self.effective_priority)
        self.stats = self.stats.plus("become_master")
        self.master_adver_int_us = p.advert_int_us
        addrs = p.virtual_ipaddress + p.virtual_ipaddress_excluded
        if addrs:
            self._emit(AddAddresses(self.name, p.interface, addrs))
        if p.virtual_routes:
            self._emit(AddRoutes(self.name, p.virtual_routes))
        if p.virtual_rules:
            self._emit(AddRules(self.name, p.virtual_rules))
        self.vipset = True
        self._link_update(p.garp_master_repeat)
        self.garp_refresh_at = (deadline(now, round(p.garp_master_refresh_s * 1e6))
                                if p.garp_master_refresh_s > 0 else None)
        self.garp_extra_at = (deadline(now, round(p.garp_extra_if_s * 1e6))
                              if p.garp_extra_if_s > 0 and p.garp_extra_if else None)
        self._notify("MASTER")
        if p.garp_master_delay_s > 0:
            self._set_timer(GARP_DELAY_TIMER, deadline(now, round(p.garp_master_delay_s * 1e6)))
        self._set_timer(ADVERT_TIMER, deadline(now, p.advert_int_us))

    def _restore_interface(self, send_prio_zero: bool) -> None:
        p = self.params
        if send_prio_zero:
            self._send_advert(0)
        if p.virtual_rules:
            self._emit(RemoveRules(self.name, p.virtual_rules))
        if p.virtual_routes:
            self._emit(RemoveRoutes(self.name, p.virtual_routes))
        self._set_timer(GARP_DELAY_TIMER, None)
        self._set_timer(LOWER_PRIO_GARP_TIMER, None)
        addrs = p.virtual_ipaddress + p.virtual_ipaddress_excluded
        if self.vipset and addrs:
            self._emit(RemoveAddresses(self.name, p.interface, addrs))
        self.vipset = False
        self.garp_refresh_at = None

    def leave_master(self, now: float, to: State, send_prio_zero: bool) -> None:
        """keepalived's vrrp_state_leave_master (to BACKUP or FAULT).

        keepalived 2.2.7 sends priority 0 twice when a MASTER faults (once in
        leave_master, once in restore_interface) and counts one; we send and count one.
        """
        self.wantstate = to
        self._restore_interface(send_prio_zero or to == State.FAULT)
        self._set_state(to, now)
        if to == State.BACKUP:
            self.preempt_time = None
        self._notify(to.value)
        self.ms_down_timer_us = self._master_down()
        self._set_timer(ADVERT_TIMER, deadline(now, self.ms_down_timer_us) if to == State.BACKUP else None)
        self.stats = self.stats.plus("release_master")

    def enter_fault(self, now: float) -> None:
        """down_instance: to FAULT from any running state."""
        self.wantstate = State.FAULT
        if self.state == State.MASTER:
            self.leave_master(now, State.FAULT, True)
        elif self.state != State.FAULT:
            self._set_state(State.FAULT, now)
            self._notify("FAULT")
            self._set_timer(ADVERT_TIMER, None)

    def leave_fault(self, now: float) -> None:
        """try_up_instance / vrrp_state_leave_fault: back to BACKUP (owner: MASTER)."""
        if self.state not in (State.FAULT, State.INIT):
            return
        self.master_adver_int_us = self.params.advert_int_us
        self.wantstate = State.MASTER if self.base_priority == PRIO_OWNER else State.BACKUP
        if self.wantstate == State.MASTER:
            self.goto_master(now)
            if self.state == State.MASTER:
                return
        self._set_state(State.BACKUP, now)
        self._notify("BACKUP")
        self.preempt_time = None
        self.ms_down_timer_us = self._master_down()
        self._set_timer(ADVERT_TIMER, deadline(now, self.ms_down_timer_us))

    def _stop(self, now: float) -> None:
        if self.state == State.MASTER:
            self._restore_interface(True)
        self._set_timer(ADVERT_TIMER, None)
        self._set_timer(GARP_DELAY_TIMER, None)
        self._set_timer(LOWER_PRIO_GARP_TIMER, None)
        if self.state != State.STOP:
            self._set_state(State.STOP, now)
            self._notify("STOP")
        self.started = False

    # ----------------------------------------------------------------- timers
    def _timer(self, timer: str, now: float) -> None:
        p = self.params
        if timer == ADVERT_TIMER:
            if self.sands is None or now + _EPSILON < self.sands:
                return  # stale: re-armed or cancelled since
            if self.state == State.BACKUP and self.resuming:
                self._resume_master(now)
            elif self.state == State.BACKUP:
                self._log("Receive advertisement timeout")
                self.goto_master(now)
            elif self.state == State.MASTER:
                if p.timer_expired_backup and now + _EPSILON >= self.sands + late_takeover_us(
                        p.version, p.advert_int_us, p.timer_expired_backup) / 1e6:
                    # upstream's vrrp_thread_timeout_handler: we ran late, another router took over
                    self._log(f"VRRP thread timer expired {now - self.sands:.6f} seconds ago")
                    self.leave_master(now, State.BACKUP, send_prio_zero=False)
                    return
                self._send_advert(self.effective_priority)
                if self.garp_refresh_at is not None and now + _EPSILON >= self.garp_refresh_at:
                    self._link_update(p.garp_master_refresh_repeat)
                    # from this tick's deadline, not from when it ran: ticks no longer drift
                    # (_next_advert), so `now` + refresh would land just after the tick due
                    # then and defer the refresh a whole advert_int (keepalived: every
                    # refresh / advert_int ticks)
                    self.garp_refresh_at = deadline(self.sands, round(p.garp_master_refresh_s * 1e6))
                if self.garp_extra_at is not None and now + _EPSILON >= self.garp_extra_at:
                    self._extra_if_update()
                    self.garp_extra_at = deadline(self.sands, round(p.garp_extra_if_s * 1e6))
                self._set_timer(ADVERT_TIMER, self._next_advert(now))
        elif timer == GARP_DELAY_TIMER and self.state == State.MASTER:
            self._link_update(p.garp_master_repeat)
        elif timer == LOWER_PRIO_GARP_TIMER and self.state == State.MASTER:
            self._link_update(p.lower_prio_repeat)

    def _next_advert(self, now: float) -> float:
        """The MASTER's next advert deadline: one interval after the one just served, not
        after the moment it was served, so a loop that wakes a little late every time does
        not stretch every interval (keepalived re-arms from time_now and drifts; a
        deliberate difference, conformance/DIFFERENCES.md). When the loop ran so late that
        that deadline has passed too, re-anchor to now: a catch-up burst of adverts tells a
        BACKUP nothing, and one interval from the late advert is what it expects next."""
        assert self.sands is not None
        us = self._advert_us()
        nxt = deadline(self.sands, us)
        if nxt <= now + _EPSILON:
            nxt = deadline(now, us)
        return nxt

    def _advert_us(self) -> int:
        """params.advert_int_us (a rounding each time it is read), kept per params value."""
        cached = self._advert_us_cache
        if cached is None or cached[0] is not self.params:
            cached = self._advert_us_cache = (self.params, self.params.advert_int_us)
        return cached[1]

    def rebase_timer(self, timer: str, at: float) -> None:
        """The runtime armed `timer` later than asked (runtime._arm_deferred: a master
        transition's advert counts from when its addresses were set, as keepalived's
        vrrp_state_master_tx): the deadline it will really fire at becomes the anchor."""
        if timer == ADVERT_TIMER and self.sands is not None:
            self.sands = at

    # ----------------------------------------------------------------- tracking
    def _tracking(self, kind: str, name: str, ok: bool | None, value: int | None, now: float) -> None:
        before = self.tracking.status.get((kind, name))
        if not self.tracking.update(kind, name, ok, value):
            return
        if kind == "bfd" and before is not None and bool(before.ok) != bool(ok):
            # vrrp_handle_bfd_event's line, on a change only (its bfd_up starts false)
            self._emit(Log(f"VRRP_Instance({self.name}) Tracked BFD instance {name} is {'UP' if ok else 'DOWN'}"))
        self.recompute_priority(now)
        fault = self.has_own_fault()
        was, self._was_fault = self._was_fault, fault
        if not self.started:
            return
        if self.resuming and fault:
            self.resume_fallback(now, f"{kind} {name} failed")
        if self.state == State.INIT:
            self._enter_running(now, "")
        elif fault and not was:
            self._log(f"{kind} {name} failed")
            self.enter_fault(now)
        elif not fault and was:
            if self.sync is not None and not self.sync.may_leave_fault(self):
                self.wantstate = State.BACKUP
                return
            self.leave_fault(now)

    def recompute_priority(self, now: float) -> None:
        new = clamp_priority(self.base_priority, self.tracking.total_weight())
        if new == self.effective_priority:
            return
        self._log(f"Changing effective priority from {self.effective_priority} to {new}")
        self.effective_priority = new
        old = self.ms_down_timer_us
        self.ms_down_timer_us = self._master_down()
        if self.state == State.BACKUP and self.sands is not None:
            self._set_timer(ADVERT_TIMER, self.sands + (self.ms_down_timer_us - old) / 1e6)
        if self.params.notify_priority_changes:
            self._notify("PRIORITY")

    # ----------------------------------------------------------------- views
    def snapshot(self) -> InstanceSnapshot:
        """State and counters as one frozen value, for dumps and tests."""
        p = self.params
        return InstanceSnapshot(
            name=self.name, interface=p.interface, vrid=p.vrid, family=p.family,
            version=p.version, state=self.state, wantstate=self.wantstate,
            base_priority=self.base_priority, effective_priority=self.effective_priority,
            advert_int_s=p.advert_int_s, master_adver_int_us=self.master_adver_int_us,
            ms_down_timer_us=self.ms_down_timer_us, master_saddr=self.master_saddr,
            master_priority=self.master_priority, last_transition=self.last_transition,
            vipset=self.vipset, source=p.primary_address, nopreempt=p.nopreempt,
            preempt_delay_s=p.preempt_delay_s, virtual_ipaddress=p.virtual_ipaddress,
            virtual_ipaddress_excluded=p.virtual_ipaddress_excluded,
            unicast_peers=tuple(u.address for u in p.unicast_peers),
            sync_group=self.sync.name if self.sync is not None else None,
            stats=self.stats, sands=self.sands,
            total_priority=self.base_priority + self.tracking.total_weight(),
            num_script_if_fault=len(self.tracking.faults()),
            num_script_init=len(self.tracking.pending()))

    def clear_stats(self) -> None:
        """keepalived's STATS_CLEAR signal: every counter back to 0."""
        self.stats = VrrpStats()
