"""GARP / unsolicited NA pacing per interface, as keepalived 2.2.7 spaces them (pure).

Why: `vrrp_garp_interval` / `vrrp_gna_interval` (and a garp_group's) belong to the
interface, not the instance (vrrp_arp.c send_gratuitous_arp, vrrp_ndisc.c,
vrrp_scheduler.c vrrp_arp_thread): every frame on a base interface (or on any interface of
one garp_group) waits until `interval` after the previous one, whichever instance sent it.
A frame that must wait marks its address pending: one flag per (instance, address), so
the repeats of a burst that are still waiting collapse into that one frame (keepalived
sends each waiting address once). When the pacing timer fires, the pending addresses go
in instance order, VIPs then eVIPs, each interface sending at most one frame per pass.
The first frame on an interface, and every frame where no interval is set, goes at once.

Frames are (instance, interface to send on, address); `now` is the caller's clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Callable, Hashable  # noqa: UP035 - the core imports typing only (import-boundary test)

IPAddr = IPv4Address | IPv6Address
#: base interface -> (pacing key shared by a garp_group's interfaces, garp s, gna s)
Delays = Callable[[str], tuple[Hashable, float, float]]


@dataclass(frozen=True, slots=True)
class Frame:
    instance: str
    ifname: str
    address: IPAddr


@dataclass(slots=True)
class _Pending:
    order: tuple[int, int]  # (instance rank, address rank)
    frame: Frame
    key: tuple[Hashable, int]
    interval: float


class GarpPacer:
    """`delays(base_ifname)` gives the pacing of an interface; `wakeup` is when `due()`
    should next run (None: nothing waits)."""

    def __init__(self, delays: Delays) -> None:
        self.delays = delays
        self.next_time: dict[tuple[Hashable, int], float] = {}
        self.pending: dict[tuple[str, IPAddr], _Pending] = {}
        self.wakeup: float | None = None

    def _pacing(self, base: str, addr: IPAddr) -> tuple[tuple[Hashable, int], float]:
        key, garp, gna = self.delays(base)
        return (key, addr.version), (garp if addr.version == 4 else gna)

    def offer(self, frame: Frame, base: str, order: tuple[int, int], now: float) -> bool:
        """A frame a burst asks for: True to send it now, False when it waits (or an
        earlier frame for the same address already waits)."""
        key, interval = self._pacing(base, frame.address)
        if interval > 0:
            nxt = self.next_time.get(key)
            if nxt is not None and now < nxt:
                self.pending.setdefault((frame.instance, frame.address), _Pending(order, frame, key, interval))
                at = now + interval  # queue_garp / queue_ndisc: the timer runs an interval from now
                if self.wakeup is None or at < self.wakeup:
                    self.wakeup = at
                return False
            self.next_time[key] = now + interval
        return True

    def due(self, now: float, active: Callable[[str], bool]) -> list[Frame]:
        """The pacing timer fired: the waiting frames whose interface may send now, in
        keepalived's order; waiting frames of instances no longer MASTER are dropped."""
        out: list[Frame] = []
        nxt: float | None = None
        for ident, p in sorted(self.pending.items(), key=lambda kv: kv[1].order):
            if not active(p.frame.instance):
                del self.pending[ident]
                continue
            at = self.next_time.get(p.key)
            if at is None or now >= at:
                out.append(p.frame)
                del self.pending[ident]
                self.next_time[p.key] = now + p.interval
            elif nxt is None or at < nxt:
                nxt = at
        self.wakeup = nxt
        return out

    def forget(self, instance: str) -> None:
        """An instance left MASTER or went away: its waiting frames go."""
        for ident in [i for i in self.pending if i[0] == instance]:
            del self.pending[ident]
