"""What a runtime tells an instance. Plain values; `now` travels beside them."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from keepalived_py.track.events import TrackingChanged
from keepalived_py.vrrp.packet import VrrpAdvert

IPAddr = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class Start:
    """Begin VRRP: INIT -> BACKUP (or MASTER for the address owner, FAULT if tracking fails)."""


@dataclass(frozen=True, slots=True)
class Stop:
    """Shut down: a MASTER sends priority 0 and releases its addresses."""


@dataclass(frozen=True, slots=True)
class RxMeta:
    """What the socket layer knows about a received advert besides its bytes.

    `ttl` is the IPv4 TTL / IPv6 hop limit (None if not received, as keepalived allows);
    `multicast` says whether it was sent to a multicast group (None: derive from `dst`);
    `ip_protocol` is the IPv4 protocol (51 when AH-wrapped); `checksum_verified` says the
    kernel already checked the checksum (IPv6 sockets with IPV6_CHECKSUM, which is all
    keepalived relies on there), so the instance need not know the true destination.
    """

    src: IPAddr
    dst: IPAddr
    ttl: int | None = 255
    multicast: bool | None = None
    ip_protocol: int = 112
    checksum_verified: bool = False

    @property
    def is_multicast(self) -> bool:
        return self.dst.is_multicast if self.multicast is None else self.multicast


@dataclass(frozen=True, slots=True)
class PacketReceived:
    """Raw VRRP message (IP header stripped) for this instance's VRID; the instance decodes
    it so that codec failures are counted on the instance, as keepalived does."""

    data: bytes
    meta: RxMeta


@dataclass(frozen=True, slots=True)
class Ipv4DatagramReceived:
    """A whole IPv4 datagram as a raw socket returns it (protocol 112, or 51 with AH); the
    instance reads src, dst and TTL from its header. `multicast` as in RxMeta."""

    datagram: bytes
    multicast: bool | None = None


@dataclass(frozen=True, slots=True)
class AdvertReceived:
    """An advert the runtime already decoded (checksum verified)."""

    advert: VrrpAdvert
    meta: RxMeta


@dataclass(frozen=True, slots=True)
class TimerExpired:
    """A timer the instance asked for with SetTimer has fired."""

    timer: str


@dataclass(frozen=True, slots=True)
class InterfaceUp:
    ifname: str


@dataclass(frozen=True, slots=True)
class InterfaceDown:
    ifname: str


Event = (Start | Stop | PacketReceived | Ipv4DatagramReceived | AdvertReceived | TimerExpired
         | TrackingChanged | InterfaceUp | InterfaceDown)
