"""Shared by the BFD lab tests: configs, BFD packets out of a capture, timing checks."""

from __future__ import annotations

import struct
from dataclasses import dataclass

from conformance.lab.pcap import Frame, _l3
from keepalived_py.bfd.packet import ControlPacket, DecodeError, State, decode

TWO = "bridge lan 192.0.2.0/24 2001:db8:0:1::/64\nrouter r1 lan\nrouter r2 lan"
BFD_PORTS = (3784, 4784)


def bfd_conf(name: str, neighbor: str, source: str | None = None, *, interval_ms: int = 50,
             mult: int = 3, extra: str = "") -> str:
    src = f"    source_ip {source}\n" if source else ""
    return (f"global_defs {{\n    router_id {name}\n}}\n"
            f"bfd_instance {name} {{\n    neighbor_ip {neighbor}\n{src}"
            f"    min_rx {interval_ms}\n    min_tx {interval_ms}\n    multiplier {mult}\n{extra}}}\n")


@dataclass(frozen=True)
class BfdFrame:
    ts: float
    src: str
    dst: str
    sport: int
    dport: int
    ttl: int
    pkt: ControlPacket | None  # None: not a valid Control packet


def bfd_frames(frames: list[Frame]) -> list[BfdFrame]:
    import ipaddress

    out = []
    for f in frames:
        l3 = _l3(f.data)
        if l3 is None:
            continue
        etype, _mac, body = l3
        if etype == 0x0800 and len(body) >= 20 and body[9] == 17:
            ihl = (body[0] & 0xF) * 4
            src, dst, ttl, udp = (str(ipaddress.IPv4Address(body[12:16])), str(ipaddress.IPv4Address(body[16:20])),
                                  body[8], body[ihl:])
        elif etype == 0x86DD and len(body) >= 40 and body[6] == 17:
            src, dst, ttl, udp = (str(ipaddress.IPv6Address(body[8:24])), str(ipaddress.IPv6Address(body[24:40])),
                                  body[7], body[40:])
        else:
            continue
        if len(udp) < 8:
            continue
        sport, dport = struct.unpack_from("!HH", udp)
        if dport not in BFD_PORTS:
            continue
        try:
            pkt: ControlPacket | None = decode(udp[8:])
        except DecodeError:
            pkt = None
        out.append(BfdFrame(f.ts, src, dst, sport, dport, ttl, pkt))
    return out


def both_up(frames: list[BfdFrame], a: str, b: str) -> bool:
    seen = {f.src for f in frames if f.pkt is not None and f.pkt.state == State.UP}
    return {a, b} <= seen


def settled(frames: list[BfdFrame], src: str) -> list[BfdFrame]:
    """The Up packets of `src` after its last Poll/Final exchange (intervals agreed)."""
    mine = [f for f in frames if f.src == src and f.pkt is not None and f.pkt.state == State.UP]
    last_pf = max((i for i, f in enumerate(mine) if f.pkt.poll or f.pkt.final), default=-1)
    return [f for f in mine[last_pf + 1:]]


def expired_down_seen(frames: list[BfdFrame], src: str) -> bool:
    """`src` has sent Down with diagnostic 1 (Control Detection Time Expired)."""
    return any(f.src == src and f.pkt is not None and f.pkt.state == State.DOWN and f.pkt.diag == 1
               for f in frames)
