"""What an instance asks its runtime to do. The runtime executes these and nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from keepalived_py.track.events import RunNotify
from keepalived_py.vrrp.checks import DropReason
from keepalived_py.vrrp.packet import VrrpAdvert

IPAddr = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class SendAdvert:
    """Send `payloads[i]` (VRRP message, checksum done) from `src` to `dsts[i]` with TTL /
    hop limit 255 on `interface`. `advert` is the same message, typed, for logs and tests.
    With AH, `datagrams[i]` is the whole IPv4 datagram to send as is (IP_HDRINCL): its
    header is covered by the AH digest."""

    instance: str
    interface: str
    advert: VrrpAdvert
    src: IPAddr | None
    dsts: tuple[IPAddr, ...]
    payloads: tuple[bytes, ...]
    datagrams: tuple[bytes, ...] = ()

    @property
    def priority(self) -> int:
        return self.advert.priority


@dataclass(frozen=True, slots=True)
class AddAddresses:
    """Install VIPs (`virtual_ipaddress`, then `virtual_ipaddress_excluded`)."""

    instance: str
    interface: str
    addresses: tuple[IPAddr, ...]


@dataclass(frozen=True, slots=True)
class RemoveAddresses:
    instance: str
    interface: str
    addresses: tuple[IPAddr, ...]


@dataclass(frozen=True, slots=True)
class AddRoutes:
    """`virtual_routes` lines, as configured; the runtime parses them."""

    instance: str
    routes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemoveRoutes:
    instance: str
    routes: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AddRules:
    instance: str
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RemoveRules:
    instance: str
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SendGarp:
    """Gratuitous ARP for each IPv4 address, `repeat` rounds."""

    instance: str
    interface: str
    addresses: tuple[IPv4Address, ...]
    repeat: int


@dataclass(frozen=True, slots=True)
class SendNa:
    """Unsolicited neighbour advertisement for each IPv6 address, `repeat` rounds."""

    instance: str
    interface: str
    addresses: tuple[IPv6Address, ...]
    repeat: int


@dataclass(frozen=True, slots=True)
class SetTimer:
    """Arm (or with `at` None, cancel) the instance's timer named `timer`."""

    instance: str
    timer: str
    at: float | None


@dataclass(frozen=True, slots=True)
class Log:
    """A log line with keepalived's wording, for the runtime's logger."""

    message: str
    level: str = "INFO"


@dataclass(frozen=True, slots=True)
class PacketDropped:
    """A received packet failed a check and was counted under `reason`. `message` is the
    log line; a flood of these must not become a log flood, so runtimes rate-limit them
    per instance (by type, not by reading the text)."""

    instance: str
    reason: DropReason
    message: str


Action = (SendAdvert | AddAddresses | RemoveAddresses | AddRoutes | RemoveRoutes | AddRules
          | RemoveRules | SendGarp | SendNa | RunNotify | SetTimer | Log | PacketDropped)
