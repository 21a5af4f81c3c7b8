"""One BFD session: the RFC 5880 state machine, pure (no sockets, clock or logging).

Time is an input: `now` is an integer count of microseconds from any monotonic origin,
the unit BFD puts on the wire, so "detection time is exactly multiplier x interval" is an
integer identity, not a float comparison. The session keeps three deadlines (periodic
transmit, detection expiry, state reset); the runtime arms one timer at
`next_deadline()` and calls `on_timer(now)`, which fires whatever is due. Randomness
(jitter, discriminators) is injected, so tests pick it.

keepalived's choices followed (keepalived/bfd/bfd.c, bfd_scheduler.c):
- the Desired Min TX field carries idle_tx until the session is Up; entering Up starts a
  Poll Sequence when idle_tx differs from min_tx (RFC 5880 section 6.8.3);
- while Up the intervals are recomputed only on a packet with Poll or Final; otherwise on
  every packet (section 6.8.3: a change does not take effect before the poll ends);
- a session Down for one detection time is reset (remote state and discriminator
  forgotten); leaving Up draws a new local discriminator;
- passive sessions send nothing until they hear their peer, and stop again when Down;
- an event is reported on Up, and on Down from Up unless the peer went AdminDown.
Where keepalived departs from the RFC we follow the RFC and say so:
- jitter: 0-25% off the interval, 10-25% at multiplier 1 (section 6.8.7); keepalived
  tests `local_detect_mult` for non-zero and so always takes 10-25%;
- detection: refreshed by every valid packet in Init as well as Up (section 6.8.4);
  keepalived lets an Init session expire one detection time after entering Init;
- no periodic packets while the peer's Required Min RX is zero (section 6.8.7);
- a faster transmit interval (entering Up, or a reload lowering min_tx) is used at once,
  as section 6.8.3 allows; only a slower one waits for the Final. keepalived waits in both
  cases, so a peer that applies our Poll's interval at once may expire meanwhile (seen
  at multiplier 1 in the property tests);
- leaving Up sends a Down packet at once (keepalived waits for the next periodic one,
  up to one transmit interval later; RFC 5880 6.8.7 lets a system send at any time);
- a pending Poll is not abandoned when a Final must go out: the Final packet goes
  without P, and the next periodic packet carries P again (section 6.5 allows both).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from keepalived_py.bfd.packet import ControlPacket, Diag, DropReason, State

US = 1_000_000  # microseconds per second
NO_HOP_CHECK = 255  # keepalived stores max_hops -1 as 255: no TTL check at all

Rand = Callable[[int, int], int]
"""rand(lo, hi): a uniformly drawn integer, lo <= n <= hi."""


@dataclass(frozen=True, slots=True)
class SessionConfig:
    """A bfd_instance as the session needs it (intervals in microseconds)."""

    name: str
    min_tx_us: int = 10_000
    min_rx_us: int = 10_000
    idle_tx_us: int = 1_000_000
    multiplier: int = 5
    passive: bool = False
    ttl: int = 255  # what we send, and the base of the receive check
    max_hops: int = 0  # NO_HOP_CHECK: none

    def timers(self) -> tuple[int, int, int, int]:
        return (self.min_tx_us, self.min_rx_us, self.idle_tx_us, self.multiplier)


# ----------------------------------------------------------------------- actions
@dataclass(frozen=True, slots=True)
class Transmit:
    """Send this packet to the neighbour now."""

    packet: ControlPacket


@dataclass(frozen=True, slots=True)
class Report:
    """Tell the processes tracking the session (keepalived's bfd_event_send)."""

    name: str
    up: bool


@dataclass(frozen=True, slots=True)
class Log:
    """A log line; level "info", "warning", or "detail" (only with -D / log_detail)."""

    level: str
    text: str


@dataclass(frozen=True, slots=True)
class Dropped:
    """A packet that reached the session and was discarded."""

    reason: DropReason


Action = Transmit | Report | Log | Dropped


@dataclass(slots=True)
class Counters:
    rx: int = 0
    tx: int = 0
    tx_final: int = 0
    up_events: int = 0
    down_events: int = 0
    polls_started: int = 0
    polls_done: int = 0


@dataclass(slots=True)
class Session:
    """State variables of RFC 5880 section 6.8.1 plus the three deadlines."""

    cfg: SessionConfig
    local_discr: int
    rand: Rand
    new_discr: Callable[[], int] = field(repr=False, default=lambda: 1)
    state: State = State.DOWN
    remote_state: State = State.DOWN
    remote_discr: int = 0
    local_diag: Diag = Diag.NONE
    remote_diag: Diag = Diag.NONE
    remote_min_tx_us: int = 0
    remote_min_rx_us: int = 1  # RFC 5880 6.8.1: initialised to 1
    remote_demand: bool = False
    remote_mult: int = 0
    poll: bool = False
    final: bool = False
    local_tx_us: int = 0  # negotiated transmit interval
    remote_tx_us: int = 0  # negotiated receive interval (what the peer sends at)
    detect_us: int = 0  # local detection time
    remote_detect_us: int = 0
    last_rx: int | None = None
    tx_at: int | None = None
    expire_at: int | None = None
    reset_at: int | None = None
    counters: Counters = field(default_factory=Counters)

    def __post_init__(self) -> None:
        self.local_tx_us = self.cfg.idle_tx_us

    # ------------------------------------------------------------------ helpers
    @property
    def name(self) -> str:
        return self.cfg.name

    def next_deadline(self) -> int | None:
        due = [t for t in (self.tx_at, self.expire_at, self.reset_at) if t is not None]
        return min(due) if due else None

    def jittered(self, interval_us: int) -> int:
        """RFC 5880 6.8.7: 75-100% of the interval, 75-90% when our multiplier is 1."""
        low = interval_us // 10 if self.cfg.multiplier == 1 else 0
        return interval_us - self.rand(low, interval_us // 4)

    def _schedule_tx(self, now: int) -> None:
        self.tx_at = now + self.jittered(self.local_tx_us)

    def _hasten_tx(self, now: int) -> None:
        """After the interval shrank: the next packet no later than the new interval
        allows, and never later than it was already due (the peer's detection time is
        running on the old rate)."""
        if self.tx_at is not None:
            self.tx_at = min(self.tx_at, now + self.jittered(self.local_tx_us))

    def _idle_tx(self) -> None:
        self.local_tx_us = max(self.cfg.idle_tx_us, self.remote_min_rx_us)

    def build(self) -> ControlPacket:
        """The packet we would send now (RFC 5880 6.8.7)."""
        up = self.state == State.UP
        return ControlPacket(
            state=self.state, my_discr=self.local_discr, your_discr=self.remote_discr,
            diag=self.local_diag, detect_mult=self.cfg.multiplier,
            desired_min_tx_us=self.cfg.min_tx_us if up else self.cfg.idle_tx_us,
            required_min_rx_us=self.cfg.min_rx_us, poll=self.poll and not self.final,
            final=self.final)

    def timer_lines(self) -> list[str]:
        """keepalived's bfd_dump_timers, logged with -D when the peer's timers change."""
        pad = " " * (len(self.name) + 2)
        up = self.state == State.UP
        return [f"({self.name}) ---------------< Session parameters >--------------",
                f"{pad}          min_tx  min_rx  tx_intv  mult  detect_time",
                f"{pad} local  {self.cfg.min_tx_us if up else self.cfg.idle_tx_us:8d} {self.cfg.min_rx_us:7d} "
                f"{self.local_tx_us:8d} {self.cfg.multiplier:5d} {self.detect_us:12d}",
                f"{pad} remote {self.remote_min_tx_us:8d} {self.remote_min_rx_us:7d} "
                f"{self.remote_tx_us:8d} {self.remote_mult:5d} {self.remote_detect_us:12d}"]

    def _transmit(self) -> Transmit:
        pkt = self.build()
        self.counters.tx += 1
        if pkt.final:
            self.counters.tx_final += 1
        self.final = False
        return Transmit(pkt)

    def _faster_now(self, now: int) -> None:
        """RFC 5880 6.8.3: only an increase of the transmit interval waits for the Poll
        Sequence to end; a decrease takes effect at once (the peer computes its detection
        time from the Desired Min TX it receives with our Poll, so we must keep to it)."""
        if self.state != State.UP:
            return
        target = max(self.cfg.min_tx_us, self.remote_min_rx_us)
        if target < self.local_tx_us:
            self.local_tx_us = target
            self.remote_detect_us = self.cfg.multiplier * target
            self._hasten_tx(now)

    def _start_poll(self, out: list[Action]) -> None:
        out.append(Log("detail", f"({self.name}) Starting poll sequence"))
        self.poll = True
        self.counters.polls_started += 1

    # ------------------------------------------------------------------ entry points
    def start(self, now: int) -> list[Action]:
        """Session created (or the daemon started): report Down, send at once unless passive."""
        out: list[Action] = [Report(self.name, self.state == State.UP)]
        if self.state != State.ADMIN_DOWN and not self.cfg.passive:
            out.append(self._transmit())
            self._schedule_tx(now)
        return out

    def admin_down(self, now: int) -> list[Action]:
        """keepalived's bfd_state_admindown (no output socket): silent until it can send."""
        self.state = State.ADMIN_DOWN
        self.local_diag = Diag.ADMIN_DOWN
        self.tx_at = None
        out: list[Action] = [Log("warning", f"({self.name}) Entering {State.ADMIN_DOWN.label} state")]
        self._fall(now, send_event=False, out=out)
        return out

    def enable(self, now: int) -> list[Action]:
        """Out of AdminDown (the socket could be opened): Down, sending unless passive."""
        if self.state != State.ADMIN_DOWN:
            return []
        self.state = State.DOWN
        self.local_diag = Diag.NONE
        if not self.cfg.passive:
            self._schedule_tx(now)
        return []

    def reconfigure(self, cfg: SessionConfig, now: int) -> list[Action]:
        """Reload with the same name: keep the state, poll if the timers changed."""
        out: list[Action] = []
        changed = cfg.timers() != self.cfg.timers()
        self.cfg = cfg
        if changed:
            if self.state != State.UP:
                self._idle_tx()
            if not self.final:
                self._start_poll(out)
            self._faster_now(now)
        if cfg.passive and self.state == State.DOWN and self.last_rx is None:
            self.tx_at = None
        elif not cfg.passive and self.tx_at is None and self.state != State.ADMIN_DOWN:
            self._schedule_tx(now)
        return out

    def on_timer(self, now: int) -> list[Action]:
        """Fire every deadline that is due, expiry first (it may change what we send)."""
        out: list[Action] = []
        if self.expire_at is not None and now >= self.expire_at:
            self.expire_at = None
            self._expire(now, out)
        if self.reset_at is not None and now >= self.reset_at:
            self.reset_at = None
            self._reset()
        if self.tx_at is not None and now >= self.tx_at:
            if self.remote_min_rx_us != 0:
                out.append(self._transmit())
            self._schedule_tx(now)
        return out

    def receive(self, pkt: ControlPacket, now: int) -> list[Action]:
        """RFC 5880 6.8.6 from "If the A bit is set" on: the codec and demux checks passed."""
        if pkt.auth:
            return [Dropped(DropReason.AUTH)]
        if self.state == State.ADMIN_DOWN:
            return [Dropped(DropReason.ADMIN_DOWN)]
        out: list[Action] = []
        self.counters.rx += 1
        old_local_tx, old_detect = self.local_tx_us, self.detect_us
        old_remote = (self.remote_min_rx_us, self.remote_min_tx_us, self.remote_mult)
        self.remote_discr = pkt.my_discr
        self.remote_state = pkt.state
        self.remote_diag = pkt.diag
        self.remote_min_rx_us = pkt.required_min_rx_us
        self.remote_min_tx_us = pkt.desired_min_tx_us
        self.remote_demand = pkt.demand
        self.remote_mult = pkt.detect_mult
        if pkt.final and self.poll:
            self.poll = False
            self.counters.polls_done += 1
        if self.state != State.UP or pkt.poll or pkt.final:
            if self.remote_state == State.UP and self.state in (State.INIT, State.UP):
                self.local_tx_us = max(self.cfg.min_tx_us, self.remote_min_rx_us)
            else:
                self._idle_tx()
            self.remote_tx_us = max(self.cfg.min_rx_us, self.remote_min_tx_us)
        self.detect_us = self.remote_mult * self.remote_tx_us
        self.remote_detect_us = self.cfg.multiplier * self.local_tx_us
        if self.local_tx_us < old_local_tx:
            self._hasten_tx(now)
        if (old_remote != (self.remote_min_rx_us, self.remote_min_tx_us, self.remote_mult)
                or old_local_tx != self.local_tx_us):
            out.extend(Log("detail", line) for line in self.timer_lines())
        if self.detect_us != old_detect:
            out.append(Log("info", f"{'':{len(self.name) + 2}} Detection time is {self.detect_us} us "
                                   f"(was {old_detect} us)"))
        self._transition(now, out)
        both_up = self.state == State.UP and self.remote_state == State.UP
        if self.remote_demand and both_up and not self.poll:
            self.tx_at = None  # RFC 5880 6.8.7: the peer is in Demand mode
        elif self.tx_at is None:
            self._schedule_tx(now)
        if pkt.poll:
            self.final = True
            out.append(self._transmit())
        self.last_rx = now
        if self.state in (State.INIT, State.UP):
            self.expire_at = now + self.detect_us
        return out

    # ------------------------------------------------------------------ transitions
    def _transition(self, now: int, out: list[Action]) -> None:
        """The table of RFC 5880 section 6.8.6 (local state x remote state)."""
        remote = self.remote_state
        if remote == State.ADMIN_DOWN:
            if self.state != State.DOWN:
                self._down(now, Diag.NEIGHBOR_DOWN, out)
        elif self.state == State.DOWN:
            if remote == State.DOWN:
                self._rise(State.INIT, now, out)
            elif remote == State.INIT:
                self._rise(State.UP, now, out)
        elif self.state == State.INIT:
            if remote in (State.INIT, State.UP):
                self._rise(State.UP, now, out)
        elif self.state == State.UP and remote == State.DOWN:
            self._down(now, Diag.NEIGHBOR_DOWN, out)

    def _rise(self, state: State, now: int, out: list[Action]) -> None:
        self.state = state
        self.local_diag = Diag.NONE
        out.append(Log("info" if state == State.UP else "detail", f"({self.name}) Entering {state.label} state"))
        self.reset_at = None
        if self.expire_at is None:
            self.expire_at = now + self.detect_us
        if state == State.UP:
            if self.cfg.idle_tx_us != self.cfg.min_tx_us and not self.final:
                self._start_poll(out)
            self._faster_now(now)
            self.counters.up_events += 1
            out.append(Report(self.name, True))
        elif self.cfg.passive and self.tx_at is None:
            self._schedule_tx(now)

    def _down(self, now: int, diag: Diag, out: list[Action]) -> None:
        was_up = self.state == State.UP
        if was_up:
            self.local_discr = self.new_discr()
        out.append(Log("warning" if was_up else "detail",
                       f"({self.name}) Entering {State.DOWN.label} state (Local diagnostic - {diag.text}, "
                       f"Remote diagnostic - {self.remote_diag.text})"))
        self.state = State.DOWN
        self.local_diag = diag
        self.reset_at = now + self.detect_us
        if self.cfg.passive:
            self.tx_at = None
        elif was_up:
            out.append(self._transmit())  # tell the peer now, not at the next tick
        self._fall(now, send_event=was_up, out=out)

    def _fall(self, now: int, send_event: bool, out: list[Action]) -> None:
        self._idle_tx()  # RFC 5880 6.8.3: not Up -> at least one second
        self.expire_at = None
        if send_event and self.remote_state != State.ADMIN_DOWN:
            self.counters.down_events += 1
            out.append(Report(self.name, False))

    def _expire(self, now: int, out: list[Action]) -> None:
        dead = now - (self.last_rx if self.last_rx is not None else now)
        if self.state == State.UP:
            out.append(Log("warning", f"({self.name}) Expired after {dead // 1000} ms "
                                      f"({dead - self.detect_us} usec overdue)"))
        self.remote_discr = 0  # RFC 5880 6.8.1 bfd.RemoteDiscr
        self._down(now, Diag.EXPIRED, out)

    def _reset(self) -> None:
        """keepalived's bfd_reset_state: forget the peer after a detection time Down."""
        self.remote_state = State.DOWN
        self.remote_discr = 0
        self.remote_diag = Diag.NONE
        self.remote_demand = False
        self.poll = False
        self.final = False
        self._idle_tx()
