"""The sessions of one bfd process and how a received packet finds its session, pure.

RFC 5880 section 6.8.6: a packet with Your Discriminator set is matched by our local
discriminator; one with zero (the peer does not know us yet) by its addresses, as
keepalived's find_bfd_by_addr does (neighbour address, and the local address when the
instance has a source_ip). The TTL / hop limit check follows the match because it needs
the instance's ttl and max_hops (RFC 5881 section 5, extended by keepalived's max_hops).
Every discard is counted by DropReason.
"""

from __future__ import annotations

import ipaddress
from collections import Counter
from dataclasses import dataclass

from keepalived_py.bfd.packet import ControlPacket, DropReason
from keepalived_py.bfd.session import NO_HOP_CHECK, Rand, Session, SessionConfig

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
DISCR_MAX = 0xFFFFFFFF


@dataclass(frozen=True, slots=True)
class Endpoint:
    """Where a session's packets come from and go from."""

    neighbor: Address
    source: Address | None = None


def ttl_ok(cfg: SessionConfig, ttl: int) -> bool:
    """keepalived's bfd_check_packet_ttl: ttl + max_hops must reach the configured ttl.

    A ttl of 0 means the socket gave none; keepalived lets such a packet through."""
    if cfg.max_hops == NO_HOP_CHECK or not ttl:
        return True
    return cfg.max_hops + ttl >= cfg.ttl


class Sessions:
    """Name -> session, with the demultiplexing and the drop counters."""

    def __init__(self, rand: Rand) -> None:
        self.rand = rand
        self.by_name: dict[str, Session] = {}
        self.endpoints: dict[str, Endpoint] = {}
        self.drops: Counter[DropReason] = Counter()

    def new_discr(self) -> int:
        """A random non-zero discriminator no session uses (RFC 5880 6.8.1)."""
        used = {s.local_discr for s in self.by_name.values()}
        while True:
            discr = self.rand(1, DISCR_MAX)
            if discr not in used:
                return discr

    def add(self, cfg: SessionConfig, endpoint: Endpoint) -> Session:
        session = Session(cfg, self.new_discr(), self.rand, new_discr=self.new_discr)
        self.by_name[cfg.name] = session
        self.endpoints[cfg.name] = endpoint
        return session

    def remove(self, name: str) -> Session | None:
        self.endpoints.pop(name, None)
        return self.by_name.pop(name, None)

    def find(self, pkt: ControlPacket, src: Address, dst: Address | None) -> Session | None:
        if pkt.your_discr:
            for session in self.by_name.values():
                if session.local_discr == pkt.your_discr:
                    return session
            return None
        for name, ep in self.endpoints.items():
            if ep.neighbor != src:
                continue
            if ep.source is None or dst is None or ep.source == dst:
                return self.by_name[name]
        return None

    def match(self, pkt: ControlPacket, src: Address, dst: Address | None, ttl: int) -> Session | None:
        """The session this packet is for, or None (the reason counted)."""
        session = self.find(pkt, src, dst)
        if session is None:
            self.drops[DropReason.NO_SESSION] += 1
            return None
        if not ttl_ok(session.cfg, ttl):
            self.drops[DropReason.TTL] += 1
            return None
        return session

    def count(self, reason: DropReason) -> None:
        self.drops[reason] += 1
