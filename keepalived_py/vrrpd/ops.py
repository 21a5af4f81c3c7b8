"""Kernel work the vrrp child queues, as typed values.

Netlink is async but order must hold (a VIP is removed after it was added, never before),
so address, route and rule changes and GARP / NA bursts go through one ordered queue.
Each item is one of these frozen values; `owner` is the instance it is for ("static" for
static_* entries, None at shutdown), used only in error lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from keepalived_py.config.model.addresses import Route, Rule
from keepalived_py.net.ports import AddressSpec
from keepalived_py.vrrp.actions import SendGarp, SendNa

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig


@dataclass(frozen=True, slots=True)
class AddAddress:
    spec: AddressSpec
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveAddress:
    spec: AddressSpec
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class AddRoute:
    route: Route
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveRoute:
    route: Route
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class AddRule:
    rule: Rule
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class RemoveRule:
    rule: Rule
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class LinkUpdate:
    """Send the GARP / NA burst an instance asked for, after the queued address work."""

    action: SendGarp | SendNa

    @property
    def owner(self) -> str:
        return self.action.instance


@dataclass(frozen=True, slots=True)
class FirewallState:
    """An instance's state for the no_accept / vrrp_strict filter (net/nft.py): queued
    before the VIPs are added on entering MASTER, after they are removed on leaving it,
    as keepalived's vrrp_handle_accept_mode() is called."""

    instance: str
    state: str

    @property
    def owner(self) -> str:
        return self.instance


@dataclass(frozen=True, slots=True)
class FirewallConfig:
    """(Re)read the configuration: `start` adopts a predecessor's tables, else a reload."""

    config: KeepalivedConfig
    start: bool
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class FirewallStop:
    """Delete our tables at shutdown (after the VIPs are gone), nothing else."""

    owner: str | None = None


@dataclass(frozen=True, slots=True)
class Syncd:
    """An IPVS sync daemon command (syncd.py): generic netlink `cmd` with `attrs`."""

    cmd: int
    attrs: bytes
    owner: str | None = None


@dataclass(frozen=True, slots=True)
class Mark:
    """Call `done()` once everything queued before is applied (a master transition's
    timers are armed from then on, as keepalived re-arms them after the work)."""

    done: Callable[[], None]
    owner: str | None = None


KernelOp = (AddAddress | RemoveAddress | AddRoute | RemoveRoute | AddRule | RemoveRule | LinkUpdate
            | FirewallState | FirewallConfig | FirewallStop | Mark | Syncd)


def describe(op: KernelOp) -> str:
    """The op as the runtime's error line names it: 'add_address <spec>'."""
    match op:
        case AddAddress(spec=item):
            verb = "add_address"
        case RemoveAddress(spec=item):
            verb = "remove_address"
        case AddRoute(route=item):
            verb = "add_route"
        case RemoveRoute(route=item):
            verb = "remove_route"
        case AddRule(rule=item):
            verb = "add_rule"
        case RemoveRule(rule=item):
            verb = "remove_rule"
        case LinkUpdate(action=item):
            verb = "link_update"
        case FirewallState(state=item):
            verb = "firewall"
        case FirewallConfig(start=start):
            verb, item = "firewall", "start" if start else "reload"
        case FirewallStop():
            verb, item = "firewall", "stop"
        case Mark():
            verb, item = "mark", ""
        case Syncd(cmd=cmd):
            verb, item = "lvs_sync_daemon", "start" if cmd == 9 else "stop"
    return f"{verb} {item}"


def undo(op: AddAddress | AddRoute | AddRule, owner: str | None = None) -> KernelOp:
    """The op that takes back what `op` installed (static entries at shutdown)."""
    match op:
        case AddAddress(spec=spec):
            return RemoveAddress(spec, owner)
        case AddRoute(route=route):
            return RemoveRoute(route, owner)
        case AddRule(rule=rule):
            return RemoveRule(rule, owner)
    raise TypeError(f"nothing undoes {op!r}")
