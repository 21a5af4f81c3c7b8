"""`NetPort` over pyroute2's async API (AsyncIPRoute). Nothing here blocks the event loop:
the sync IPRoute wrappers are never used.

Routes and rules arrive as the config models (`Route`, `Rule`) and are translated to
pyroute2's keyword arguments here, in one place.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator
from typing import Any

from pyroute2 import AsyncIPRoute
from pyroute2.netlink.core import CoreDatagramProtocol
from pyroute2.netlink.exceptions import NetlinkError

from keepalived_py.net.ports import AddressSpec, IPInterface, LinkEvent, LinkInfo

log = logging.getLogger(__name__)

EEXIST, ENOENT, ESRCH, EADDRNOTAVAIL, ENODEV = 17, 2, 3, 99, 19
RTMGRP_LINK = 0x1
_TABLES = {"main": 254, "local": 255, "default": 253, "unspec": 0}
_SCOPES = {"global": 0, "universe": 0, "site": 200, "link": 253, "host": 254, "nowhere": 255}
_PROTOS = {"kernel": 2, "boot": 3, "static": 4, "keepalived": 18}
_RULE_ACTIONS = {None: 1, "goto": 2, "nop": 3, "blackhole": 6, "unreachable": 7, "prohibit": 8}


def table_id(name: str | None) -> int | None:
    if name is None:
        return None
    if name in _TABLES:
        return _TABLES[name]
    try:
        return int(name, 0)
    except ValueError:
        return _rt_tables().get(name)


def _rt_tables() -> dict[str, int]:
    out: dict[str, int] = {}
    for path in ("/etc/iproute2/rt_tables", "/usr/share/iproute2/rt_tables"):
        try:
            with open(path) as f:
                for line in f:
                    parts = line.split("#", 1)[0].split()
                    if len(parts) >= 2 and parts[0].isdigit():
                        out.setdefault(parts[1], int(parts[0]))
        except OSError:
            continue
    return out


def scope_id(scope: str | int | None, default: int = 0) -> int:
    if scope is None:
        return default
    if isinstance(scope, int):
        return scope
    if scope in _SCOPES:
        return _SCOPES[scope]
    try:
        return int(scope, 0)
    except ValueError:
        return default


def _prefix(text: str, family: int) -> tuple[str | None, int]:
    if text in ("default", "any", "all", "default6"):
        return None, 0
    net = ipaddress.ip_network(text, strict=False)
    return str(net.network_address), net.prefixlen


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

    def __init__(self) -> None:
        self._ipr: LoopNeutralIPRoute | None = None
        self._mon: LoopNeutralIPRoute | None = None
        self._lock = asyncio.Lock()

    async def _req(self) -> LoopNeutralIPRoute:
        if self._ipr is None:
            ipr = LoopNeutralIPRoute()
            await ipr.setup_endpoint()
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

    # ------------------------------------------------------------------ routes
    async def _route_kwargs(self, route: Any) -> dict[str, Any]:
        family = route.ip_family
        kw: dict[str, Any] = {"family": 2 if family == 4 else 10}
        dst, dst_len = _prefix(route.dst, family)
        if dst is not None:
            kw["dst"] = dst
        kw["dst_len"] = dst_len
        if route.type:
            kw["type"] = route.type
        if route.via is not None:
            kw["gateway"] = str(route.via)
        if route.dev:
            kw["oif"] = await self._index(route.dev)
        if route.src is not None:
            kw["prefsrc"] = str(route.src)
        t = table_id(route.table)
        if t is not None:
            kw["table"] = t
        if route.metric is not None:
            kw["priority"] = route.metric
        if route.scope is not None:
            kw["scope"] = scope_id(route.scope)
        elif route.via is None and route.dev and not route.nexthops and (route.type in (None, "unicast")):
            kw["scope"] = 253  # 'ip route add X dev Y' installs a link scope route
        if route.protocol is not None:
            kw["proto"] = _PROTOS.get(route.protocol) or int(route.protocol, 0)
        if route.onlink:
            kw["flags"] = 4  # RTNH_F_ONLINK
        if route.nexthops:
            hops = []
            for nh in route.nexthops:
                h: dict[str, Any] = {}
                if nh.via is not None:
                    h["gateway"] = str(nh.via)
                if nh.dev:
                    h["oif"] = await self._index(nh.dev)
                if nh.weight:
                    h["hops"] = nh.weight - 1
                hops.append(h)
            kw["multipath"] = hops
        return kw

    async def add_route(self, route: Any) -> None:
        ipr = await self._req()
        try:
            await ipr.route("replace" if route.mode is None else "add", **await self._route_kwargs(route))
        except NetlinkError as exc:
            if exc.code != EEXIST:
                raise

    async def remove_route(self, route: Any) -> None:
        ipr = await self._req()
        try:
            kw = await self._route_kwargs(route)
        except LookupError:
            return
        try:
            await ipr.route("del", **kw)
        except NetlinkError as exc:
            if exc.code not in (ESRCH, ENOENT, ENODEV):
                raise

    # ------------------------------------------------------------------ rules
    def _rule_kwargs(self, rule: Any) -> dict[str, Any]:
        family = rule.ip_family
        kw: dict[str, Any] = {"family": 2 if family == 4 else 10}
        for field_, key in ((rule.from_, "src"), (rule.to, "dst")):
            if field_ and field_ not in ("all", "any", "default"):
                addr, plen = _prefix(field_, family)
                kw[key] = addr
                kw[f"{key}_len"] = plen
        t = table_id(rule.table)
        if rule.action in (None,) and t is not None:
            kw["table"] = t
        kw["action"] = _RULE_ACTIONS.get(rule.action, 1)
        if rule.goto is not None:
            kw["goto"] = rule.goto
        if rule.preference is not None:
            kw["priority"] = rule.preference
        if rule.fwmark is not None:
            kw["fwmark"] = rule.fwmark
        if rule.fwmask is not None:
            kw["fwmask"] = rule.fwmask
        if rule.iif:
            kw["iifname"] = rule.iif
        if rule.oif:
            kw["oifname"] = rule.oif
        if rule.invert:
            kw["flags"] = 2  # FIB_RULE_INVERT
        if rule.tos is not None:
            with contextlib.suppress(ValueError):
                kw["tos"] = int(rule.tos, 0)
        if rule.suppress_prefixlength is not None:
            kw["suppress_prefixlength"] = rule.suppress_prefixlength
        return kw

    async def add_rule(self, rule: Any) -> None:
        ipr = await self._req()
        try:
            await ipr.rule("add", **self._rule_kwargs(rule))
        except NetlinkError as exc:
            if exc.code != EEXIST:
                raise

    async def remove_rule(self, rule: Any) -> None:
        ipr = await self._req()
        try:
            await ipr.rule("del", **self._rule_kwargs(rule))
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
            self._mon = mon
        while True:
            async for m in self._mon.get():
                event = m.get("event")
                if event not in ("RTM_NEWLINK", "RTM_DELLINK"):
                    continue
                info = self._link_info(m)
                yield LinkEvent(info.ifname, info.index, info.up, deleted=event == "RTM_DELLINK")

    async def close(self) -> None:
        for sock in (self._ipr, self._mon):
            if sock is not None:
                with contextlib.suppress(Exception):
                    sock.close()
        self._ipr = self._mon = None
