"""Narrow async ports to the kernel's network configuration, as the VRRP runtime needs them.

The runtime talks to these protocols only; `pyroute2_adapter.py` implements them with
pyroute2's async API and `tests/fakes/net.py` with recording fakes. Values are plain data:
an address is an `AddressSpec` (what `ip addr add` would take), routes and rules are the
config models (`keepalived_py.config.model.routes.Route` / `rules.Rule`), whose iproute2
names are numbers already; only interface names are left for the adapter to resolve.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from keepalived_py.config.model.routes import Route
    from keepalived_py.config.model.rules import Rule

IPInterface = ipaddress.IPv4Interface | ipaddress.IPv6Interface
IPAddr = ipaddress.IPv4Address | ipaddress.IPv6Address

IFF_UP = 0x1
IFF_RUNNING = 0x40


@dataclass(frozen=True, slots=True)
class LinkInfo:
    """What the runtime needs to know about one interface."""

    index: int
    ifname: str
    mac: bytes  # 6 bytes for Ethernet, b"" when the link has none
    flags: int
    kind: str | None = None  # "macvlan", "veth", ...
    link: int | None = None  # the base interface's index for macvlan/vlan

    @property
    def up(self) -> bool:
        """Up as keepalived sees it: administratively up and running (IFF_UP|IFF_RUNNING)."""
        return (self.flags & (IFF_UP | IFF_RUNNING)) == (IFF_UP | IFF_RUNNING)


@dataclass(frozen=True, slots=True)
class AddressSpec:
    """One address to add or remove, with `ip addr` options."""

    ifname: str
    address: IPInterface
    broadcast: ipaddress.IPv4Address | None = None
    scope: int = 0  # RT_SCOPE_UNIVERSE
    label: str | None = None
    peer: IPInterface | None = None
    flags: int = 0  # IFA_F_* (nodad, home, ...)
    preferred_lft: int | None = None

    @property
    def ip(self) -> IPAddr:
        return self.address.ip


@dataclass(frozen=True, slots=True)
class LinkEvent:
    """A link appeared, changed or went away (RTM_NEWLINK / RTM_DELLINK)."""

    ifname: str
    index: int
    up: bool
    deleted: bool = False
    flags: int | None = None  # ifi_flags as reported (interface_up_down_delays compares them)


@dataclass(frozen=True, slots=True)
class AddressEvent:
    """An address was added to or removed from an interface (RTM_NEWADDR / RTM_DELADDR)."""

    ifname: str
    address: IPAddr
    added: bool


class NetPort(Protocol):
    async def link(self, ifname: str) -> LinkInfo | None:
        """The interface called `ifname`, or None."""
        ...

    async def link_by_index(self, index: int) -> LinkInfo | None: ...

    async def addresses(self, ifname: str, family: int) -> list[IPInterface]:
        """The interface's addresses of `family` (4 or 6), primary first."""
        ...

    async def add_address(self, spec: AddressSpec) -> None:
        """Add; an address already there is not an error."""
        ...

    async def remove_address(self, spec: AddressSpec) -> None:
        """Remove; an address already gone is not an error."""
        ...

    async def add_route(self, route: Route) -> None:
        """Install as keepalived does; a route already there is not an error."""
        ...

    async def remove_route(self, route: Route) -> None:
        """Remove; a route already gone (or its interface) is not an error."""
        ...

    async def add_rule(self, rule: Rule) -> None:
        """Install as keepalived does; a rule already there is not an error."""
        ...

    async def remove_rule(self, rule: Rule) -> None:
        """Remove; a rule already gone is not an error."""
        ...

    async def add_ipvlan(self, name: str, base: str, mode: str | None = None) -> int:
        """keepalived's use_ipvlan link (net/ipvlan.py), up; an existing one is reused."""
        ...

    async def add_macvlan(self, name: str, base: str, mac: bytes, mode: str = "private") -> int:
        """Create (or adopt) a macvlan on `base` with `mac`, set it up; its index."""
        ...

    async def delete_link(self, name: str) -> None: ...

    def address_events(self) -> AsyncIterator[AddressEvent]:
        """Address changes on every interface (for track_src_ip); its own netlink socket."""
        ...

    def link_events(self) -> AsyncIterator[LinkEvent]:
        """Link changes as they happen, until the port is closed."""
        ...

    async def close(self) -> None: ...
