"""GARP / unsolicited NA bursts on the wire, paced per interface (vrrp/garp_pacing.py).

Why here: the kernel queue reaches a burst after the addresses queued before it; this
turns the burst into frames, each on its VIP's own interface (the `dev` of the address,
else the instance's), from that interface's MAC, paced by the interface's (or its
garp_group's) interval whichever instance sends, as keepalived does. Waiting frames go
from a timer on the runtime's scheduler.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from keepalived_py.net.garp import PacketSender, garp_frame
from keepalived_py.net.ndisc import ipv6_forwarding, na_frame
from keepalived_py.net.ports import NetPort
from keepalived_py.vrrp.actions import SendGarp, SendNa
from keepalived_py.vrrp.garp_pacing import Delays, Frame, GarpPacer


@dataclass(frozen=True)
class Sender:
    """What a burst needs to know about its instance."""

    rank: int  # the instance's place in the configuration (keepalived's list order)
    address_rank: Callable[[Any], int]
    interface_of: Callable[[Any], str]  # the VIP's interface
    base_of: Callable[[str], str]  # a VMAC's base interface (pacing is per base)
    active: Callable[[], bool]  # still MASTER with its VIPs set


class LinkUpdates:
    def __init__(self, net: NetPort, sender: PacketSender, clock: Any, scheduler: Any, log: logging.Logger,
                 loop: asyncio.AbstractEventLoop, delays: Delays, lookup: Callable[[str], Sender | None]) -> None:
        self.net = net
        self.sender = sender
        self.clock = clock
        self.scheduler = scheduler
        self.log = log
        self.loop = loop
        self.pacer = GarpPacer(delays)
        self.lookup = lookup
        self.macs: dict[str, bytes] = {}
        self._timer: Any = None
        self._timer_at: float | None = None
        self._tasks: set[asyncio.Task] = set()

    def set_delays(self, delays: Delays) -> None:
        self.pacer.delays = delays

    async def burst(self, act: SendGarp | SendNa) -> None:
        """`act.repeat` rounds over its addresses (vrrp_send_link_update)."""
        who = self.lookup(act.instance)
        if who is None:
            return
        for addr in act.addresses:
            ifname = who.interface_of(addr) or act.interface
            if ifname not in self.macs:
                info = await self.net.link(ifname)
                if info is None or len(info.mac) != 6:
                    continue
                self.macs[ifname] = info.mac
        now = self.clock.now()
        for _ in range(max(1, act.repeat)):
            for addr in act.addresses:
                if not isinstance(addr, IPv4Address if isinstance(act, SendGarp) else IPv6Address):
                    continue
                ifname = who.interface_of(addr) or act.interface
                if ifname not in self.macs:
                    continue
                frame = Frame(act.instance, ifname, addr)
                if self.pacer.offer(frame, who.base_of(ifname), (who.rank, who.address_rank(addr)), now):
                    self._send(frame)
        self._arm()

    def _send(self, frame: Frame) -> None:
        mac = self.macs.get(frame.ifname)
        if mac is None:
            return
        if isinstance(frame.address, IPv4Address):
            data = garp_frame(mac, frame.address)
        else:
            data = na_frame(mac, frame.address, ipv6_forwarding(frame.ifname))
        self.sender.send(frame.ifname, data)

    def _arm(self) -> None:
        at = self.pacer.wakeup
        if at is None or (self._timer_at is not None and self._timer_at <= at):
            return
        if self._timer is not None:
            self._timer.cancel()
        self._timer_at = at
        self._timer = self.scheduler.call_at(at, self._fire)

    def _fire(self) -> None:
        self._timer = self._timer_at = None

        def active(name: str) -> bool:
            who = self.lookup(name)
            return who is not None and who.active()
        for frame in self.pacer.due(self.clock.now(), active):
            self._send(frame)
        self._arm()

    def forget_link(self, ifname: str) -> None:
        """An interface changed (re-created, new MAC): look its MAC up again."""
        self.macs.pop(ifname, None)

    def cancel(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._timer_at = None
        self.pacer.pending.clear()
