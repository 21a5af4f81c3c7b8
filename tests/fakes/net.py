"""Recording test doubles for the VRRP runtime's kernel ports.

- `FakeNet`: the NetPort (links, addresses, routes, rules, macvlans) in memory, every call
  recorded in `calls`; link events pushed with `set_link(...)`.
- `FakeRawSocket` / `FakeOpener`: what SocketPool opens, on a socketpair so the event loop
  can watch it; `inject()` delivers a datagram, `sent` records what went out.
- `FakeSender`: the AF_PACKET sender for GARP/NA frames.
- `FakeScheduler` (tests/fakes/clock.py, re-exported): timers on a FakeClock, fired in
  deadline order by `advance()`.
"""

from __future__ import annotations

import asyncio
import itertools
import socket
from ipaddress import ip_interface
from typing import Any

from keepalived_py.net.ports import IFF_RUNNING, IFF_UP, AddressSpec, LinkEvent, LinkInfo
from tests.fakes.clock import FakeScheduler  # noqa: F401 - the VRRP runtime tests import it from here


class FakeNet:
    def __init__(self) -> None:
        self.links: dict[str, LinkInfo] = {}
        self.addrs: dict[str, list] = {}
        self.routes: list[Any] = []
        self.rules: list[Any] = []
        self.calls: list[tuple[str, Any]] = []
        self._events: asyncio.Queue[LinkEvent] | None = None
        self._next = itertools.count(2)

    # -- set-up
    def add_link(self, ifname: str, mac: bytes = b"\x02\x00\x00\x00\x00\x01", up: bool = True,
                 addrs: tuple[str, ...] = ()) -> LinkInfo:
        flags = (IFF_UP | IFF_RUNNING) if up else 0
        info = LinkInfo(next(self._next), ifname, mac, flags)
        self.links[ifname] = info
        self.addrs.setdefault(ifname, []).extend(ip_interface(a) for a in addrs)
        return info

    def set_link(self, ifname: str, up: bool) -> None:
        old = self.links[ifname]
        self.links[ifname] = LinkInfo(old.index, ifname, old.mac, (IFF_UP | IFF_RUNNING) if up else 0,
                                      old.kind, old.link)
        if self._events is not None:
            self._events.put_nowait(LinkEvent(ifname, old.index, up))

    def ops(self, *names: str) -> list[tuple[str, Any]]:
        return [c for c in self.calls if not names or c[0] in names]

    def has(self, ifname: str, ip: str) -> bool:
        return any(str(a.ip) == ip for a in self.addrs.get(ifname, []))

    # -- NetPort
    async def link(self, ifname: str) -> LinkInfo | None:
        return self.links.get(ifname)

    async def link_by_index(self, index: int) -> LinkInfo | None:
        return next((i for i in self.links.values() if i.index == index), None)

    async def addresses(self, ifname: str, family: int) -> list:
        return [a for a in self.addrs.get(ifname, []) if a.version == family]

    async def add_address(self, spec: AddressSpec) -> None:
        self.calls.append(("add_address", spec))
        have = self.addrs.setdefault(spec.ifname, [])
        if spec.address not in have:
            have.append(spec.address)

    async def remove_address(self, spec: AddressSpec) -> None:
        self.calls.append(("remove_address", spec))
        have = self.addrs.get(spec.ifname, [])
        self.addrs[spec.ifname] = [a for a in have if a.ip != spec.address.ip]

    async def add_route(self, route: Any) -> None:
        self.calls.append(("add_route", route))
        self.routes.append(route)

    async def remove_route(self, route: Any) -> None:
        self.calls.append(("remove_route", route))
        if route in self.routes:
            self.routes.remove(route)

    async def add_rule(self, rule: Any) -> None:
        self.calls.append(("add_rule", rule))
        self.rules.append(rule)

    async def remove_rule(self, rule: Any) -> None:
        self.calls.append(("remove_rule", rule))
        if rule in self.rules:
            self.rules.remove(rule)

    async def add_macvlan(self, name: str, base: str, mac: bytes, mode: str = "private") -> int:
        self.calls.append(("add_macvlan", (name, base, mac, mode)))
        if name not in self.links:
            info = self.add_link(name, mac=mac)
            self.links[name] = LinkInfo(info.index, name, mac, info.flags, "macvlan", self.links[base].index)
        return self.links[name].index

    async def add_ipvlan(self, name: str, base: str, mode: str | None = None) -> int:
        self.calls.append(("add_ipvlan", (name, base, mode)))
        if name not in self.links:
            b = self.links[base]
            info = self.add_link(name, mac=b.mac)
            self.links[name] = LinkInfo(info.index, name, b.mac, info.flags, "ipvlan", b.index)
        return self.links[name].index

    async def delete_link(self, name: str) -> None:
        self.calls.append(("delete_link", name))
        self.links.pop(name, None)
        self.addrs.pop(name, None)

    async def link_events(self):
        self._events = asyncio.Queue()
        while True:
            yield await self._events.get()

    async def address_events(self):
        """Address changes come from tests calling the runtime's on_address_event."""
        await asyncio.Event().wait()
        yield  # pragma: no cover - never reached

    async def close(self) -> None:
        self.calls.append(("close", None))


class FakeRawSocket:
    def __init__(self, ifname: str, ifindex: int, family: int, protocol: int) -> None:
        self.ifname, self.ifindex, self.family, self.protocol = ifname, ifindex, family, protocol
        self._a, self._b = socket.socketpair(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._a.setblocking(False)
        self.sent: list[tuple[bytes, Any, list]] = []
        self.options: list[tuple[int, int, Any]] = []
        self.closed = False

    def fileno(self) -> int:
        return self._a.fileno()

    def setsockopt(self, level: int, opt: int, value: Any) -> None:
        self.options.append((level, opt, value))

    def recv(self, n: int) -> bytes:
        return self._a.recv(n)

    def recvmsg(self, n: int, anc: int = 0):
        data = self._a.recv(n)
        return data, [], 0, ("fe80::2%" + self.ifname, 0, 0, self.ifindex)

    def sendto(self, data: bytes, addr: Any) -> int:
        self.sent.append((bytes(data), addr, []))
        return len(data)

    def sendmsg(self, bufs, anc=(), flags: int = 0, addr: Any = None) -> int:
        data = b"".join(bytes(b) for b in bufs)
        self.sent.append((data, addr, list(anc)))
        return len(data)

    def inject(self, data: bytes) -> None:
        self._b.send(data)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._a.close()
            self._b.close()


class FakeOpener:
    def __init__(self) -> None:
        self.opened: list[FakeRawSocket] = []

    def __call__(self, ifname: str, ifindex: int, family: int, protocol: int) -> FakeRawSocket:
        s = FakeRawSocket(ifname, ifindex, family, protocol)
        self.opened.append(s)
        return s

    def by_if(self, ifname: str, family: int = 4) -> FakeRawSocket:
        """The newest socket for the interface (open, else the last one closed)."""
        mine = [s for s in self.opened if s.ifname == ifname and s.family == family]
        live = [s for s in mine if not s.closed]
        return (live or mine)[-1]


class FakeSender:
    def __init__(self) -> None:
        self.frames: list[tuple[str, bytes]] = []

    def send(self, ifname: str, frame: bytes) -> bool:
        self.frames.append((ifname, frame))
        return True

    def close(self) -> None:
        pass


class FakeSysctls:
    """Stands in for VmacSysctls: records, never touches /proc/sys of the test host."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, str | None]] = []

    def apply(self, vmac: str, base: str) -> None:
        self.calls.append(("apply", vmac, base))

    def release(self, base: str) -> None:
        self.calls.append(("release", base, None))
