"""What a VRRP instance is configured with, as a frozen value.

A later step maps the parsed keepalived.conf models onto this; field names follow the
keepalived.conf keywords (`virtual_router_id` is `vrid`, `advert_int` is `advert_int_s`:
time fields name their unit). Defaults are keepalived 2.2.7's.
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address

from keepalived_py.vrrp.packet import (
    VRRP_MCAST4,
    VRRP_MCAST6,
    AuthType,
    Family,
    password_bytes,
)

IPAddr = IPv4Address | IPv6Address
PRIO_OWNER = 255


@dataclass(frozen=True, slots=True)
class UnicastPeer:
    """`unicast_peer { ADDR [min_ttl N] [max_ttl N] }`."""

    address: IPAddr
    min_ttl: int = 0
    max_ttl: int = 255


@dataclass(frozen=True, slots=True)
class VrrpInstanceParams:
    name: str
    interface: str
    vrid: int
    primary_address: IPAddr | None = None
    """Source of our adverts (mcast_src_ip / unicast_src_ip, else the interface's primary
    address); also our side of the equal-priority tie-break. Needed for VRRPv3."""
    priority: int = 100
    version: int = 2
    family: Family = Family.INET
    advert_int_s: float = 1.0
    state: str = "BACKUP"
    """Accepted for compatibility; as in keepalived 2.2.7 only the address owner starts as
    MASTER, everyone else starts BACKUP and is elected."""
    nopreempt: bool = False
    preempt_delay_s: float = 0.0
    virtual_ipaddress: tuple[IPAddr, ...] = ()
    virtual_ipaddress_excluded: tuple[IPAddr, ...] = ()
    virtual_routes: tuple[str, ...] = ()
    virtual_rules: tuple[str, ...] = ()
    auth_type: AuthType = AuthType.NONE
    auth_pass: str = ""
    unicast_peers: tuple[UnicastPeer, ...] = ()
    check_unicast_src: bool = False
    mcast_dst: IPAddr | None = None
    old_unicast_checksum: str = ""
    """"" (keepalived's default: send RFC checksums, switch if a peer uses the pre-1.3.6
    form), "never" (never switch) or "always" (send the old form from the start)."""
    garp_master_delay_s: float = 5.0
    garp_master_repeat: int = 5
    garp_master_refresh_s: float = 0.0
    garp_master_refresh_repeat: int = 1
    garp_extra_if_s: float = 0.0
    garp_extra_if: tuple[tuple[str, IPAddr], ...] = ()
    """`garp_extra_if`: every garp_extra_if_s seconds while MASTER, one GARP / NA per
    (interface, address): the first VIP on each VMAC (or, with `all`, each interface)
    other than the instance's own (vrrp.c vrrp_send_vmac_update)."""
    garp_lower_prio_delay_s: float | None = None
    garp_lower_prio_repeat: int | None = None
    lower_prio_no_advert: bool = False
    higher_prio_send_advert: bool = False
    skip_check_adv_addr: bool = False
    down_timer_adverts: int = 3
    dont_track_primary: bool = False
    notify_priority_changes: bool = False
    owner_ignore_adverts: bool = False
    v3_checksum_as_v2: bool = False
    timer_expired_backup: int = 0
    """keepalived 2.2.8 (nopreempt only): the highest priority of the other routers; a MASTER
    whose advert timer fires so late that one of them has taken over goes BACKUP. 0: off."""
    """keepalived 2.2.8: VRRPv3 over IPv4 sends the checksum without the pseudo-header and
    does not verify received checksums."""
    """keepalived 2.3.3's owner_ignore_adverts: an address owner (effective priority 255) drops
    every advert it receives, so another router's adverts cannot make it step down."""

    def __post_init__(self) -> None:
        problems = []
        if not 1 <= self.vrid <= 255:
            problems.append(f"virtual_router_id {self.vrid} not in 1..255")
        if not 1 <= self.priority <= 255:
            problems.append(f"priority {self.priority} not in 1..255")
        if self.version not in (2, 3):
            problems.append(f"version {self.version} is not 2 or 3")
        if self.version == 2 and (self.advert_int_s < 1 or self.advert_int_s != int(self.advert_int_s)):
            problems.append(f"VRRPv2 advert_int {self.advert_int_s} must be whole seconds >= 1")
        if self.version == 3 and not 0.01 <= self.advert_int_s <= 40.95:
            problems.append(f"VRRPv3 advert_int {self.advert_int_s} not in 0.01..40.95")
        if self.auth_type == AuthType.AH and self.family is not Family.INET:
            problems.append("Cannot use AH authentication with IPv6")
        if self.auth_type != AuthType.NONE and self.version == 3:
            problems.append("VRRPv3 has no authentication (RFC 5798 9)")
        if (self.version == 3 or self.family is Family.INET6) and self.primary_address is None:
            problems.append("VRRPv3 and IPv6 need the source address for the checksum")
        if self.state not in ("MASTER", "BACKUP"):
            problems.append(f"state {self.state} is not MASTER or BACKUP")
        if self.old_unicast_checksum not in ("", "never", "always"):
            problems.append(f"old_unicast_checksum {self.old_unicast_checksum!r}")
        if self.down_timer_adverts < 1:
            problems.append("down_timer_adverts must be >= 1")
        if problems:
            raise ValueError(f"vrrp_instance {self.name}: " + "; ".join(problems))

    @property
    def advert_int_us(self) -> int:
        return round(self.advert_int_s * 1_000_000)

    @property
    def advert_int_cs(self) -> int:
        return round(self.advert_int_s * 100)

    @property
    def is_owner(self) -> bool:
        return self.priority == PRIO_OWNER

    @property
    def unicast(self) -> bool:
        return bool(self.unicast_peers)

    @property
    def mcast_group(self) -> IPAddr:
        if self.mcast_dst is not None:
            return self.mcast_dst
        return VRRP_MCAST4 if self.family is Family.INET else VRRP_MCAST6

    @property
    def auth_data(self) -> bytes:
        """The authentication bytes of a VRRPv2 message: the password for PASS, else zeros;
        none over IPv6, where keepalived sends the auth type but no password."""
        if self.family is Family.INET6:
            return b""
        return password_bytes(self.auth_pass) if self.auth_type == AuthType.PASS else b"\0" * 8

    @property
    def auth_key(self) -> bytes:
        """The HMAC key for AH: auth_pass padded to 8 bytes, as keepalived keeps it."""
        return password_bytes(self.auth_pass)

    @property
    def lower_prio_delay_s(self) -> float:
        d = self.garp_lower_prio_delay_s
        return self.garp_master_delay_s if d is None else d

    @property
    def lower_prio_repeat(self) -> int:
        r = self.garp_lower_prio_repeat
        return self.garp_master_repeat if r is None else r
