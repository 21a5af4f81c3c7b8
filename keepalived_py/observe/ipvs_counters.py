"""IPVS counters as plain data, from whichever backend holds the table.

The metrics view shows each service's and destination's connections, packets and bytes as
`ipvsadm -L --stats` does. Where they come from depends on the IpvsPort:
- the kernel (NetlinkIpvs): the IPVS_{SVC,DEST}_ATTR_STATS64 (else STATS) nest of the
  GET_SERVICE / GET_DEST replies, plus the destinations' active / inactive connections;
- the userspace dataplane: its own counters (UserspaceIpvs.stats()).
Both become the same records: {"service": "TCP 192.0.2.1:80", "conns", "inpkts", "outpkts",
"inbytes", "outbytes", "destinations": [{"destination": "198.51.100.10:80", ... "active",
"inactive"}]}. Decoding is pure; `read()` is the only part that awaits the port.
"""

from __future__ import annotations

import struct
from typing import Any

from keepalived_py.lvs import netlink as nl

# linux/ip_vs.h: the stats nest inside a service or destination, and its members
SVC_STATS, SVC_STATS64 = 10, 12
DEST_ACTIVE_CONNS, DEST_INACT_CONNS, DEST_PERSIST_CONNS, DEST_STATS, DEST_STATS64 = 7, 8, 9, 10, 12
STATS_CONNS, STATS_INPKTS, STATS_OUTPKTS, STATS_INBYTES, STATS_OUTBYTES = 1, 2, 3, 4, 5
COUNTERS = ("conns", "inpkts", "outpkts", "inbytes", "outbytes")
_MEMBERS = (STATS_CONNS, STATS_INPKTS, STATS_OUTPKTS, STATS_INBYTES, STATS_OUTBYTES)


def _stats(nest: dict[int, bytes], wide: int, narrow: int) -> dict[str, int]:
    """The counters of a stats nest: STATS64 has every member as u64; the older STATS has
    conns and packets as u32 and bytes as u64."""
    if wide in nest:
        a = nl.parse_attrs(nest[wide])
        return {name: struct.unpack_from("=Q", a[m])[0] if len(a.get(m, b"")) >= 8 else 0
                for name, m in zip(COUNTERS, _MEMBERS, strict=True)}
    a = nl.parse_attrs(nest.get(narrow, b""))
    out = {}
    for name, m in zip(COUNTERS, _MEMBERS, strict=True):
        raw = a.get(m, b"")
        out[name] = struct.unpack_from("=Q", raw)[0] if len(raw) >= 8 else \
            struct.unpack_from("=I", raw)[0] if len(raw) >= 4 else 0
    return out


def _u32(a: dict[int, bytes], kind: int) -> int:
    raw = a.get(kind, b"")
    return struct.unpack_from("=I", raw)[0] if len(raw) >= 4 else 0


def from_netlink(raw: list[tuple[bytes, list[bytes]]]) -> list[dict[str, Any]]:
    """Records from NetlinkIpvs.dump_raw(): each service's and destination's counters."""
    out = []
    for svc_attrs, dest_attrs in raw:
        svc = nl.decode_service(svc_attrs)
        record: dict[str, Any] = {"service": str(svc.key),
                                  **_stats(nl.parse_attrs(nl.parse_attrs(svc_attrs)[nl.CMD_ATTR_SERVICE]),
                                           SVC_STATS64, SVC_STATS)}
        dests = []
        for d in dest_attrs:
            dest = nl.decode_dest(d, svc.key.family)
            a = nl.parse_attrs(nl.parse_attrs(d)[nl.CMD_ATTR_DEST])
            dests.append({"destination": str(dest.key), **_stats(a, DEST_STATS64, DEST_STATS),
                          "active": _u32(a, DEST_ACTIVE_CONNS), "inactive": _u32(a, DEST_INACT_CONNS),
                          "persistent": _u32(a, DEST_PERSIST_CONNS)})
        record["destinations"] = sorted(dests, key=lambda r: r["destination"])
        out.append(record)
    return sorted(out, key=lambda r: r["service"])


def from_userspace(stats: list[Any]) -> list[dict[str, Any]]:
    """Records from UserspaceIpvs.stats() (lvs.userspace.balancer.ServiceStats)."""
    out = []
    for s in stats:
        dests = [{"destination": str(d.key), **{n: getattr(d.counters, n) for n in COUNTERS},
                  "active": d.active, "inactive": d.inactive, "persistent": d.persistent} for d in s.dests]
        out.append({"service": str(s.key), **{n: getattr(s.counters, n) for n in COUNTERS},
                    "destinations": sorted(dests, key=lambda r: r["destination"])})
    return sorted(out, key=lambda r: r["service"])


async def read(port: Any) -> list[dict[str, Any]] | None:
    """The port's counters, or None when it keeps none (a test double) or cannot say."""
    try:
        if hasattr(port, "dump_raw"):
            return from_netlink(await port.dump_raw())
        if callable(getattr(port, "stats", None)):
            return from_userspace(port.stats())
    except (OSError, KeyError, struct.error):
        return None
    return None
