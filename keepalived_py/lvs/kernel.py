"""The IPVS port: what the check child asks of the kernel's IPVS table, and its pyroute2 adapter.

`IpvsPort` is narrow on purpose: dump the table, apply typed operations (lvs.diff), flush
everything (`lvs_flush`), read and set the connection timeouts (`lvs_timeouts`). The adapter
speaks IPVS generic netlink through pyroute2's async socket (never its sync wrappers on the
event loop), with these details the kernel and libipvs fix:
- an edit is IPVS_CMD_SET_SERVICE / IPVS_CMD_SET_DEST; pyroute2's "update" command is a
  delete, so it is never used here;
- flags go with mask ~0 (as libipvs does); the kernel reports its own SVC_F_HASHED, dropped;
- the persistence netmask is a big-endian IPv4 mask, or for IPv6 the prefix length in host
  order in the same 4 bytes (pyroute2 types the attribute as an IPv4 address);
- the tunnel port is big-endian on the wire where pyroute2 types it as a host uint16.
A failed operation does not stop the others: keepalived logs and goes on, so the adapter
returns each failure with its operation.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from keepalived_py.lvs.diff import AddDest, AddService, DelService, Op, SetDest, SetService
from keepalived_py.lvs.table import (
    SVC_F_HASHED,
    Destination,
    DestKey,
    Service,
    ServiceKey,
    Table,
)


@dataclass(frozen=True, slots=True)
class Timeouts:
    """IPVS connection timeouts in seconds (tcp, tcpfin, udp); 0 in a request: leave as is."""

    tcp: int = 0
    tcpfin: int = 0
    udp: int = 0


@dataclass(frozen=True, slots=True)
class OpFailure:
    op: Op
    errno: int
    message: str


class IpvsPort(Protocol):
    async def dump(self) -> Table: ...

    async def apply(self, ops: Sequence[Op]) -> list[OpFailure]: ...

    async def flush(self) -> None: ...

    async def timeouts(self) -> Timeouts: ...

    async def set_timeouts(self, timeouts: Timeouts) -> None: ...

    async def close(self) -> None: ...


# --------------------------------------------------------------------------- encoding (pure)
AF = {4: socket.AF_INET, 6: socket.AF_INET6}
FAMILY = {socket.AF_INET: 4, socket.AF_INET6: 6}


def netmask_attr(family: int, netmask: int) -> str:
    """The IPVS_SVC_ATTR_NETMASK value as pyroute2 types it (a dotted quad of the 4 wire bytes)."""
    raw = struct.pack("!I", netmask) if family == 4 else struct.pack("=I", netmask)
    return socket.inet_ntoa(raw)


def netmask_value(family: int, attr: str) -> int:
    raw = socket.inet_aton(attr)
    return struct.unpack("!I" if family == 4 else "=I", raw)[0]


def be16(port: int) -> int:
    """A port in network order, read as a host uint16 (pyroute2's type for IPVS_DEST_ATTR_TUN_PORT)."""
    return socket.htons(port)


def service_fields(svc: Service | ServiceKey, full: bool = True) -> dict[str, Any]:
    """pyroute2 IPVSService fields for a service (only the key when not `full`)."""
    key = svc if isinstance(svc, ServiceKey) else svc.key
    fields: dict[str, Any] = {"af": AF[key.family]}
    if key.fwmark:
        fields["fwmark"] = key.fwmark
    else:
        fields.update(protocol=key.protocol, addr=str(key.address), port=key.port)
    if full and isinstance(svc, Service):
        fields.update(sched_name=svc.scheduler, flags={"flags": svc.flags, "mask": 0xFFFFFFFF},
                      timeout=svc.timeout, netmask=netmask_attr(key.family, svc.netmask))
        if svc.pe_name:
            fields["pe_name"] = svc.pe_name
    else:
        fields["netmask"] = netmask_attr(key.family, 0xFFFFFFFF if key.family == 4 else 128)
    return fields


def dest_fields(dest: Destination | DestKey) -> dict[str, Any]:
    key = dest if isinstance(dest, DestKey) else dest.key
    fields: dict[str, Any] = {"addr": str(key.address), "port": key.port, "addr_family": AF[key.address.version]}
    if isinstance(dest, Destination):
        fields.update(fwd_method=dest.fwd, weight=dest.weight, u_thresh=dest.u_threshold,
                      l_thresh=dest.l_threshold, tun_type=dest.tun_type, tun_port=be16(dest.tun_port),
                      tun_flags=dest.tun_flags)
    return fields


def _attrs(nla: Any) -> dict[str, Any]:
    return {name: value for name, value in nla["attrs"]}


def service_from_attrs(a: dict[str, Any]) -> Service:
    """A dumped IPVS_CMD_ATTR_SERVICE (attribute names without their prefix) as a Service."""
    family = FAMILY[a["AF"]]
    if a.get("FWMARK"):
        key = ServiceKey(family, fwmark=a["FWMARK"])
    else:
        key = ServiceKey(family, a["PROTOCOL"], ipaddress.ip_address(a["ADDR"]), a["PORT"])
    flags = a.get("FLAGS")
    flag_bits = flags["flags"] if flags is not None else 0
    return Service(key, a.get("SCHED_NAME", ""), flag_bits & ~SVC_F_HASHED, a.get("TIMEOUT", 0),
                   netmask_value(family, a.get("NETMASK", "255.255.255.255")), a.get("PE_NAME") or "")


def dest_from_attrs(a: dict[str, Any]) -> Destination:
    key = DestKey(ipaddress.ip_address(a["ADDR"]), a["PORT"])
    return Destination(key, a.get("FWD_METHOD", 0) & 0x7, a.get("WEIGHT", 0), a.get("U_THRESH", 0),
                       a.get("L_THRESH", 0), a.get("TUN_TYPE", 0), socket.ntohs(a.get("TUN_PORT", 0)),
                       a.get("TUN_FLAGS", 0))


def _strip(prefix: str, attrs: dict[str, Any]) -> dict[str, Any]:
    return {k[len(prefix):] if k.startswith(prefix) else k: v for k, v in attrs.items()}


# --------------------------------------------------------------------------- pyroute2 adapter
def _socket_class() -> Any:
    """The async IPVS socket, receiving through loop.add_reader (uvloop refuses AF_NETLINK
    datagram endpoints), with the config timeouts typed as u32 (pyroute2 says 'hex')."""
    from pyroute2.ipvs import AsyncIPVS
    from pyroute2.netlink.core import CoreDatagramProtocol
    from pyroute2.netlink.generic import ipvs

    from keepalived_py.net.pyroute2_adapter import _ReaderTransport

    class Msg(ipvs.ipvsmsg):
        nla_map = tuple((n, "uint32") if n.startswith("IPVS_CMD_ATTR_TIMEOUT") else (n, t)
                        for n, t in ipvs.ipvsmsg.nla_map)

    class LoopNeutralIPVS(AsyncIPVS):
        async def setup_endpoint(self) -> None:
            if getattr(self.local, "transport", None) is not None:
                return
            protocol = CoreDatagramProtocol(self.connection_lost, self.enqueue, self._error_event, self.status)
            transport = _ReaderTransport(self.event_loop, self.socket, protocol)
            protocol.connection_made(transport)
            self.local.transport, self.local.protocol = transport, protocol
            await self.bind(ipvs.GENL_NAME, Msg)

    return LoopNeutralIPVS, Msg, ipvs


class Pyroute2Ipvs:
    """The production IpvsPort, one generic netlink socket, requests one at a time."""

    def __init__(self) -> None:
        self._sock: Any = None
        self._lock = asyncio.Lock()
        self._cls, self._msg, self._ipvs = _socket_class()

    async def _s(self) -> Any:
        if self._sock is None:
            sock = self._cls()
            await sock.setup_endpoint()
            self._sock = sock
        return self._sock

    async def close(self) -> None:
        if self._sock is not None:
            sock, self._sock = self._sock, None
            sock.close()

    async def _request(self, cmd: int, attrs: list, dump: bool = False) -> list[Any]:
        from pyroute2.netlink import NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST

        sock = await self._s()
        msg = self._msg()
        msg["cmd"] = cmd
        msg["version"] = self._ipvs.GENL_VERSION
        msg["attrs"] = attrs
        flags = NLM_F_REQUEST | (NLM_F_DUMP if dump else NLM_F_ACK)
        return [m async for m in await sock.nlm_request(msg, msg_type=sock.prid, msg_flags=flags)]

    def _svc_nla(self, svc: Service | ServiceKey, full: bool = True) -> Any:
        from pyroute2.ipvs import IPVSService

        s = IPVSService(**service_fields(svc, full))
        return s.dump_nla() if full else s.dump_key()

    def _dest_nla(self, dest: Destination | DestKey) -> Any:
        from pyroute2.ipvs import IPVSDest

        d = IPVSDest(**dest_fields(dest))
        if isinstance(dest, DestKey):
            for name in ("fwd_method", "weight", "tun_type", "tun_port", "tun_flags", "u_thresh", "l_thresh"):
                d.pop(name, None)
        return d.dump_nla()

    async def dump(self) -> Table:
        async with self._lock:
            entries = []
            for m in await self._request(self._ipvs.IPVS_CMD_GET_SERVICE, [], dump=True):
                raw = m.get_attr("IPVS_CMD_ATTR_SERVICE")
                if raw is None:
                    continue
                svc = service_from_attrs(_strip("IPVS_SVC_ATTR_", _attrs(raw)))
                dests = []
                for d in await self._request(self._ipvs.IPVS_CMD_GET_DEST,
                                             [("IPVS_CMD_ATTR_SERVICE", self._svc_nla(svc.key, full=False))],
                                             dump=True):
                    draw = d.get_attr("IPVS_CMD_ATTR_DEST")
                    if draw is not None:
                        dests.append(dest_from_attrs(_strip("IPVS_DEST_ATTR_", _attrs(draw))))
                entries.append((svc, dests))
            return Table.build(entries)

    def _encode(self, op: Op) -> tuple[int, list]:
        i = self._ipvs
        if isinstance(op, AddService | SetService):
            cmd = i.IPVS_CMD_NEW_SERVICE if isinstance(op, AddService) else i.IPVS_CMD_SET_SERVICE
            return cmd, [("IPVS_CMD_ATTR_SERVICE", self._svc_nla(op.service))]
        if isinstance(op, DelService):
            return i.IPVS_CMD_DEL_SERVICE, [("IPVS_CMD_ATTR_SERVICE", self._svc_nla(op.key, full=False))]
        svc = ("IPVS_CMD_ATTR_SERVICE", self._svc_nla(op.service, full=False))
        if isinstance(op, AddDest | SetDest):
            cmd = i.IPVS_CMD_NEW_DEST if isinstance(op, AddDest) else i.IPVS_CMD_SET_DEST
            return cmd, [svc, ("IPVS_CMD_ATTR_DEST", self._dest_nla(op.dest))]
        return i.IPVS_CMD_DEL_DEST, [svc, ("IPVS_CMD_ATTR_DEST", self._dest_nla(op.key))]

    async def apply(self, ops: Sequence[Op]) -> list[OpFailure]:
        from pyroute2.netlink.exceptions import NetlinkError

        failures = []
        async with self._lock:
            for op in ops:
                cmd, attrs = self._encode(op)
                try:
                    await self._request(cmd, attrs)
                except NetlinkError as exc:
                    failures.append(OpFailure(op, exc.code, str(exc)))
        return failures

    async def flush(self) -> None:
        async with self._lock:
            await self._request(self._ipvs.IPVS_CMD_FLUSH, [])

    async def timeouts(self) -> Timeouts:
        async with self._lock:
            msgs = await self._request(self._ipvs.IPVS_CMD_GET_CONFIG, [])
        m = msgs[0]
        return Timeouts(m.get_attr("IPVS_CMD_ATTR_TIMEOUT_TCP") or 0, m.get_attr("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN") or 0,
                        m.get_attr("IPVS_CMD_ATTR_TIMEOUT_UDP") or 0)

    async def set_timeouts(self, timeouts: Timeouts) -> None:
        """As libipvs: values left 0 keep the kernel's current ones."""
        current = await self.timeouts()
        attrs = [("IPVS_CMD_ATTR_TIMEOUT_TCP", timeouts.tcp or current.tcp),
                 ("IPVS_CMD_ATTR_TIMEOUT_TCP_FIN", timeouts.tcpfin or current.tcpfin),
                 ("IPVS_CMD_ATTR_TIMEOUT_UDP", timeouts.udp or current.udp)]
        async with self._lock:
            await self._request(self._ipvs.IPVS_CMD_SET_CONFIG, attrs)
