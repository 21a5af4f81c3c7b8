"""`NetPort` over pyroute2's async API (AsyncIPRoute). Nothing here blocks the event loop:
the sync IPRoute wrappers are never used.

Routes and rules arrive as the config models (`Route`, `Rule`), whose iproute2 names are
numbers already; `rtnl.py` builds the request keepalived would send, attribute for
attribute, and pyroute2's socket carries it. Only interface names are resolved here.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import struct
from collections.abc import AsyncIterator
from typing import Any

from keepalived_py.config.model.routes import Route
from keepalived_py.config.model.rules import Rule
from keepalived_py.net import pyroute2_lean
from keepalived_py.net.ipvlan import ipvlan_request
from keepalived_py.net.ports import AddressEvent, AddressSpec, IPInterface, LinkEvent, LinkInfo
from keepalived_py.net.rcvbuf import set_rcvbuf
from keepalived_py.net.rtnl import Request, route_request, rule_request

# the rtnetlink socket and the message classes only, not pyroute2's whole __init__: this is
# imported by the vrrp child before its first state (net/pyroute2_lean.py)
pyroute2_lean.lean()
from pyroute2.iproute.linux import AsyncIPRoute  # noqa: E402
from pyroute2.netlink import nlmsg  # noqa: E402
from pyroute2.netlink.core import CoreDatagramProtocol  # noqa: E402
from pyroute2.netlink.exceptions import NetlinkError  # noqa: E402

log = logging.getLogger(__name__)

EEXIST, ENOENT, ESRCH, EADDRNOTAVAIL, ENODEV = 17, 2, 3, 99, 19
RTMGRP_LINK = 0x1
RTMGRP_IPV4_IFADDR = 0x10
RTMGRP_IPV6_IFADDR = 0x100
_HEADER = struct.Struct("=IHHII")  # struct nlmsghdr
class _RawRequest(nlmsg):
    """A request whose payload was built by rtnl.py; pyroute2 fills in the sequence number and
    port id, sends it and reads the acknowledgement."""

    fields = ()

    def __init__(self, request: Request) -> None:
        super().__init__()
        self.request = request

    def encode(self) -> None:
        header = self["header"]
        payload = self.request.payload
        self.data = bytearray(_HEADER.pack(_HEADER.size + len(payload), header["type"], header["flags"],
                                           header["sequence_number"], header["pid"]) + payload)


class _ReaderTransport(asyncio.DatagramTransport):
    """The receive half of a datagram transport over loop.add_reader.

    uvloop (the children's loop) refuses AF_NETLINK in create_datagram_endpoint, which
    pyroute2's AsyncIPRoute uses to receive; pyroute2 sends on the socket itself, so this is
    all it needs. Works the same on the standard asyncio loop.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, sock, protocol) -> None:
        super().__init__()
        self._loop = loop
        self._sock = sock
        self._protocol = protocol
        self._closed = False
        sock.setblocking(False)
        loop.add_reader(sock.fileno(), self._read)

    def _read(self) -> None:
        for _ in range(64):
            try:
                data, addr = self._sock.recvfrom(1 << 20)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                self._protocol.error_received(exc)
                return
            self._protocol.datagram_received(data, addr)

    def sendto(self, data, addr=None) -> None:
        self._sock.sendto(data, addr or (0, 0))

    def is_closing(self) -> bool:
        return self._closed

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(Exception):
            self._loop.remove_reader(self._sock.fileno())

    def abort(self) -> None:
        self.close()


class LoopNeutralIPRoute(AsyncIPRoute):
    """AsyncIPRoute that receives through loop.add_reader (see _ReaderTransport)."""

    async def setup_endpoint(self):
        if getattr(self.local, "transport", None) is not None:
            return
        loop = self.event_loop
        protocol = CoreDatagramProtocol(self.connection_lost, self.enqueue, self._error_event, self.status)
        transport = _ReaderTransport(loop, self.socket, protocol)
        protocol.connection_made(transport)
        self.local.transport, self.local.protocol = transport, protocol


class Pyroute2Net:
    """The production NetPort. One request socket, one monitor socket (opened lazily)."""

    def __init__(self, cmd_rcvbuf: tuple[int, bool] = (0, False),
                 monitor_rcvbuf: tuple[int, bool] = (0, False)) -> None:
        self._cmd_rcvbuf, self._monitor_rcvbuf = cmd_rcvbuf, monitor_rcvbuf
        self._ipr: LoopNeutralIPRoute | None = None
        self._mon: LoopNeutralIPRoute | None = None
        self._addr_mon: LoopNeutralIPRoute | None = None
        self._lock = asyncio.Lock()

    async def _req(self) -> LoopNeutralIPRoute:
        if self._ipr is None:
            ipr = LoopNeutralIPRoute()
            await ipr.setup_endpoint()
            set_rcvbuf(ipr.socket, self._cmd_rcvbuf)
            self._ipr = ipr
        return self._ipr

    # ------------------------------------------------------------------ links
    @staticmethod
    def _link_info(msg: Any) -> LinkInfo:
        mac = msg.get("address") or ""
        info = msg.get(("linkinfo", "kind")) if hasattr(msg, "get") else None
        try:
            raw = bytes.fromhex(mac.replace(":", "")) if mac else b""
        except ValueError:
            raw = b""
        return LinkInfo(index=msg["index"], ifname=msg.get("ifname"), mac=raw, flags=msg["flags"],
                        kind=info, link=msg.get("link"))

    async def link(self, ifname: str) -> LinkInfo | None:
        ipr = await self._req()
        try:
            msgs = await ipr.link("get", ifname=ifname)
        except NetlinkError as exc:
            if exc.code in (ENODEV, ENOENT):
                return None
            raise
        for m in msgs:
            return self._link_info(m)
        return None

    async def link_by_index(self, index: int) -> LinkInfo | None:
        ipr = await self._req()
        try:
            msgs = await ipr.link("get", index=index)
        except NetlinkError:
            return None
        for m in msgs:
            return self._link_info(m)
        return None

    async def _index(self, ifname: str) -> int:
        info = await self.link(ifname)
        if info is None:
            raise LookupError(f"no interface {ifname}")
        return info.index

    # ------------------------------------------------------------------ addresses
    async def addresses(self, ifname: str, family: int) -> list[IPInterface]:
        ipr = await self._req()
        index = await self._index(ifname)
        fam = 2 if family == 4 else 10
        out: list[IPInterface] = []
        secondary: list[IPInterface] = []
        async for m in await ipr.addr("dump", family=fam, index=index):
            if m["index"] != index:
                continue
            addr = m.get("address")
            if addr is None:
                continue
            iface = ipaddress.ip_interface(f"{addr}/{m['prefixlen']}")
            flags = m.get("flags") or m["flags"]
            (secondary if flags & 0x01 else out).append(iface)  # IFA_F_SECONDARY
        return out + secondary

    def _addr_kwargs(self, spec: AddressSpec, index: int) -> dict[str, Any]:
        kw: dict[str, Any] = {"index": index, "address": str(spec.address.ip),
                              "prefixlen": spec.address.network.prefixlen,
                              "family": 2 if spec.address.version == 4 else 10}
        if spec.peer is not None:
            kw["local"] = str(spec.address.ip)
            kw["address"] = str(spec.peer.ip)
            kw["prefixlen"] = spec.peer.network.prefixlen
        if spec.broadcast is not None:
            kw["broadcast"] = str(spec.broadcast)
        if spec.scope:
            kw["scope"] = spec.scope
        if spec.label:
            kw["label"] = spec.label
        if spec.flags:
            kw["flags"] = spec.flags
        if spec.preferred_lft is not None and spec.address.version == 6:
            kw["IFA_CACHEINFO"] = {"ifa_preferred": spec.preferred_lft & 0xFFFFFFFF,
                                   "ifa_valid": 0xFFFFFFFF, "cstamp": 0, "tstamp": 0}
        return kw

    async def add_address(self, spec: AddressSpec) -> None:
        ipr = await self._req()
        index = await self._index(spec.ifname)
        try:
            await ipr.addr("add", **self._addr_kwargs(spec, index))
        except NetlinkError as exc:
            if exc.code != EEXIST:
                raise

    async def remove_address(self, spec: AddressSpec) -> None:
        ipr = await self._req()
        info = await self.link(spec.ifname)
        if info is None:
            return
        kw = self._addr_kwargs(spec, info.index)
        for k in ("broadcast", "scope", "label", "flags", "IFA_CACHEINFO"):
            kw.pop(k, None)
        try:
            await ipr.addr("del", **kw)
        except NetlinkError as exc:
            if exc.code not in (EADDRNOTAVAIL, ENOENT, ESRCH, ENODEV):
                raise

    # ------------------------------------------------------------------ routes and rules
    async def _send(self, request: Request) -> None:
        ipr = await self._req()
        async for _ in await ipr.nlm_request(_RawRequest(request), msg_type=request.type,
                                             msg_flags=request.flags):
            pass

    async def _ifindexes(self, names: tuple[str, ...]) -> dict[str, int]:
        return {name: await self._index(name) for name in names}

    async def add_route(self, route: Route) -> None:
        request = route_request(route, True, await self._ifindexes(route.interfaces()))
        try:
            await self._send(request)
        except NetlinkError as exc:
            if exc.code != EEXIST:
                raise

    async def remove_route(self, route: Route) -> None:
        try:
            ifindex = await self._ifindexes(route.interfaces())
        except LookupError:
            return  # its interface is gone, and the route with it
        try:
            await self._send(route_request(route, False, ifindex))
        except NetlinkError as exc:
            if exc.code not in (ESRCH, ENOENT, ENODEV):
                raise

    async def add_rule(self, rule: Rule) -> None:
        try:
            await self._send(rule_request(rule, True))
        except NetlinkError as exc:
            if exc.code != EEXIST:
                raise

    async def remove_rule(self, rule: Rule) -> None:
        try:
            await self._send(rule_request(rule, False))
        except NetlinkError as exc:
            if exc.code not in (ENOENT, ESRCH):
                raise

    # ------------------------------------------------------------------ macvlan
    async def add_macvlan(self, name: str, base: str, mac: bytes, mode: str = "private") -> int:
        ipr = await self._req()
        existing = await self.link(name)
        mac_text = ":".join(f"{b:02x}" for b in mac)
        if existing is None:
            base_index = await self._index(base)
            await ipr.link("add", ifname=name, kind="macvlan", link=base_index,
                           macvlan_mode=mode, address=mac_text)
            existing = await self.link(name)
            if existing is None:
                raise LookupError(f"macvlan {name} vanished after creation")
        await ipr.link("set", index=existing.index, state="up")
        return existing.index

    async def add_ipvlan(self, name: str, base: str, mode: str | None = None) -> int:
        existing = await self.link(name)
        if existing is None:
            await self._send(ipvlan_request(name, await self._index(base), mode))
            existing = await self.link(name)
            if existing is None:
                raise LookupError(f"ipvlan {name} vanished after creation")
        elif not existing.up:
            ipr = await self._req()
            await ipr.link("set", index=existing.index, state="up")
        return existing.index

    async def delete_link(self, name: str) -> None:
        ipr = await self._req()
        info = await self.link(name)
        if info is None:
            return
        with contextlib.suppress(NetlinkError):
            await ipr.link("del", index=info.index)

    # ------------------------------------------------------------------ events
    async def link_events(self) -> AsyncIterator[LinkEvent]:
        if self._mon is None:
            mon = LoopNeutralIPRoute()
            await mon.setup_endpoint()
            await mon.bind(groups=RTMGRP_LINK)
            set_rcvbuf(mon.socket, self._monitor_rcvbuf)
            self._mon = mon
        while True:
            async for m in self._mon.get():
                event = m.get("event")
                if event not in ("RTM_NEWLINK", "RTM_DELLINK"):
                    continue
                info = self._link_info(m)
                yield LinkEvent(info.ifname, info.index, info.up, deleted=event == "RTM_DELLINK", flags=info.flags)

    async def address_events(self) -> AsyncIterator[AddressEvent]:
        if self._addr_mon is None:
            mon = LoopNeutralIPRoute()
            await mon.setup_endpoint()
            await mon.bind(groups=RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR)
            set_rcvbuf(mon.socket, self._monitor_rcvbuf)
            self._addr_mon = mon
        while True:
            async for m in self._addr_mon.get():
                event = m.get("event")
                if event not in ("RTM_NEWADDR", "RTM_DELADDR"):
                    continue
                addr = m.get("local") or m.get("address")
                info = await self.link_by_index(m["index"])
                if addr is None or info is None:
                    continue
                yield AddressEvent(info.ifname, ipaddress.ip_address(addr), event == "RTM_NEWADDR")

    async def close(self) -> None:
        for sock in (self._ipr, self._mon, self._addr_mon):
            if sock is not None:
                with contextlib.suppress(Exception):
                    sock.close()
        self._ipr = self._mon = self._addr_mon = None
