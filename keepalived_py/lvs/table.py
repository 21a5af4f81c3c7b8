"""The IPVS table as values: services, their destinations, and the numbers the kernel uses.

Both the desired table (`lvs.plan`) and the kernel's (`lvs.kernel` dumps) are a `Table`, so
`lvs.diff` compares like with like. A service is identified the way the kernel identifies it
(family, protocol, address, port, or family and fwmark); a destination within its service by
(address, port). Every other field is an attribute the kernel can edit in place.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# linux/ip_vs.h
SVC_F_PERSISTENT = 0x0001
#: set by the kernel on every service in its hash table; never ours to set or compare
SVC_F_HASHED = 0x0002
SVC_F_ONEPACKET = 0x0004
SVC_F_SCHED1 = 0x0008
SVC_F_SCHED2 = 0x0010
SVC_F_SCHED3 = 0x0020
SVC_F_SCHED_SH_FALLBACK = SVC_F_SCHED1
SVC_F_SCHED_SH_PORT = SVC_F_SCHED2
SVC_F_SCHED_MH_FALLBACK = SVC_F_SCHED1
SVC_F_SCHED_MH_PORT = SVC_F_SCHED2

FWD_MASQ = 0
FWD_LOCALNODE = 1
FWD_TUNNEL = 2
FWD_DROUTE = 3
FWD_METHODS = {"NAT": FWD_MASQ, "DR": FWD_DROUTE, "TUN": FWD_TUNNEL}

TUN_IPIP = 0
TUN_GUE = 1
TUN_GRE = 2
TUN_TYPES = {"ipip": TUN_IPIP, "gue": TUN_GUE, "gre": TUN_GRE}

TUN_F_NOCSUM = 0
TUN_F_CSUM = 1
TUN_F_REMCSUM = 2
TUN_FLAGS = {"nocsum": TUN_F_NOCSUM, "csum": TUN_F_CSUM, "remcsum": TUN_F_REMCSUM}

PROTO_TCP = 6
PROTO_UDP = 17
PROTO_SCTP = 132
PROTOCOLS = {"TCP": PROTO_TCP, "UDP": PROTO_UDP, "SCTP": PROTO_SCTP}

#: the persistence netmask the kernel is given when no granularity applies
V4_HOST_MASK = 0xFFFFFFFF
V6_HOST_PREFIX = 128


def default_netmask(family: int) -> int:
    """A service's netmask without persistence_granularity: /32 (as a mask) or /128 (as a length)."""
    return V6_HOST_PREFIX if family == 6 else V4_HOST_MASK


@dataclass(frozen=True, slots=True, order=True)
class ServiceKey:
    """What the kernel identifies a service by. fwmark services have no protocol/address/port
    (protocol 0, address None, port 0); address services have fwmark 0."""

    family: int                      # 4 or 6
    protocol: int = 0                # IPPROTO_TCP / UDP / SCTP; 0 for a fwmark service
    address: IPAddress | None = None
    port: int = 0
    fwmark: int = 0

    def __post_init__(self) -> None:
        if self.fwmark and (self.address is not None or self.protocol or self.port):
            raise ValueError("a fwmark service has no protocol, address or port")
        if not self.fwmark and self.address is None:
            raise ValueError("a service needs an address or a fwmark")
        if self.address is not None and self.address.version != self.family:
            raise ValueError(f"service address {self.address} is not IPv{self.family}")

    def sort_key(self) -> tuple:
        return (self.family, self.fwmark, self.protocol, int(self.address or 0), self.port)

    def __str__(self) -> str:
        if self.fwmark:
            return f"FWM {self.fwmark} IPv{self.family}"
        proto = {v: k for k, v in PROTOCOLS.items()}.get(self.protocol, str(self.protocol))
        host = f"[{self.address}]" if self.family == 6 else str(self.address)
        return f"{proto} {host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Service:
    """A service's editable attributes. `netmask` is the persistence netmask the kernel keeps:
    an IPv4 mask as an integer (0xffffffff for /32), or an IPv6 prefix length."""

    key: ServiceKey
    scheduler: str = "wlc"
    flags: int = 0                    # without SVC_F_HASHED
    timeout: int = 0                  # persistence timeout, seconds; 0 when not persistent
    netmask: int = V4_HOST_MASK
    pe_name: str = ""

    def __post_init__(self) -> None:
        if self.flags & SVC_F_HASHED:
            raise ValueError("SVC_F_HASHED is the kernel's, not part of a service's attributes")


@dataclass(frozen=True, slots=True, order=True)
class DestKey:
    """A destination within its service: address and port (0 for 'the service's port')."""

    address: IPAddress
    port: int = 0

    def sort_key(self) -> tuple:
        return (self.address.version, int(self.address), self.port)

    def __str__(self) -> str:
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{host}:{self.port}"


@dataclass(frozen=True, slots=True)
class Destination:
    """A real server entry: everything but the key is editable in place (IPVS_CMD_SET_DEST)."""

    key: DestKey
    fwd: int = FWD_MASQ
    weight: int = 1
    u_threshold: int = 0
    l_threshold: int = 0
    tun_type: int = TUN_IPIP
    tun_port: int = 0                 # host order
    tun_flags: int = TUN_F_NOCSUM

    @property
    def family(self) -> int:
        return self.key.address.version


def _frozen(mapping: Mapping) -> Mapping:
    return MappingProxyType(dict(mapping))


@dataclass(frozen=True, slots=True)
class Table:
    """Services and, per service, destinations by key. Build with `Table.build`."""

    services: Mapping[ServiceKey, Service] = field(default_factory=dict)
    dests: Mapping[ServiceKey, Mapping[DestKey, Destination]] = field(default_factory=dict)

    @staticmethod
    def build(entries: Iterable[tuple[Service, Iterable[Destination]]]) -> Table:
        services: dict[ServiceKey, Service] = {}
        dests: dict[ServiceKey, Mapping[DestKey, Destination]] = {}
        for svc, ds in entries:
            services[svc.key] = svc
            dests[svc.key] = _frozen({d.key: d for d in ds})
        return Table(_frozen(services), _frozen(dests))

    def __iter__(self) -> Iterator[tuple[Service, tuple[Destination, ...]]]:
        for key in sorted(self.services, key=ServiceKey.sort_key):
            yield self.services[key], tuple(sorted(self.dests.get(key, {}).values(), key=lambda d: d.key.sort_key()))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Table):
            return NotImplemented
        return dict(self.services) == dict(other.services) and \
            {k: dict(v) for k, v in self.dests.items() if k in self.services} == \
            {k: dict(v) for k, v in other.dests.items() if k in other.services}

    __hash__ = None  # type: ignore[assignment]

    def __len__(self) -> int:
        return len(self.services)

    def destinations(self, key: ServiceKey) -> Mapping[DestKey, Destination]:
        return self.dests.get(key, MappingProxyType({}))

    def restricted(self, keys: Iterable[ServiceKey]) -> Table:
        """The part of this table under the given service keys."""
        wanted = set(keys)
        return Table.build((s, self.destinations(s.key).values()) for s in self.services.values() if s.key in wanted)
