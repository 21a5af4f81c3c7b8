"""What one instance looks like from outside at one moment, as a frozen value.

The dumps (keepalived.data, keepalived.json, keepalived.stats) and any later status view
read this and nothing else, so a field they print exists by construction: a missing one is
a type error, not a silent 0 (the untyped dict it replaces lacked master_priority and
last_transition, and the dumps printed 0 for both).

Times are on the core's scale: `last_transition` is the monotonic `now` the machine was
given when its state last changed. Turning it into keepalived's wall-clock timestamp is the
runtime's job (the core never sees a wall clock).
"""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address
from typing import TYPE_CHECKING

from keepalived_py.vrrp.packet import Family
from keepalived_py.vrrp.stats import VrrpStats

if TYPE_CHECKING:
    from keepalived_py.vrrp.machine import State

IPAddr = IPv4Address | IPv6Address


@dataclass(frozen=True, slots=True)
class InstanceSnapshot:
    name: str
    interface: str
    """Where the instance runs. The core knows the VIP interface (the VMAC with use_vmac);
    the runtime replaces it with the configured interface, which the dumps name."""
    vrid: int
    family: Family
    version: int
    state: State
    wantstate: State
    base_priority: int
    effective_priority: int
    advert_int_s: float
    master_adver_int_us: int
    """The master's advert interval as last heard (VRRPv3), else ours."""
    ms_down_timer_us: int
    master_saddr: IPAddr | None
    master_priority: int
    """Priority of the last advert accepted from the master (0 until one is heard), as
    keepalived records it: in BACKUP, and in MASTER when a higher one takes over."""
    last_transition: float | None
    """Monotonic seconds of the last state change (or of the instance's creation before
    any); None only for an instance built without a creation time."""
    vipset: bool
    source: IPAddr | None
    nopreempt: bool
    preempt_delay_s: float
    virtual_ipaddress: tuple[IPAddr, ...]
    virtual_ipaddress_excluded: tuple[IPAddr, ...]
    unicast_peers: tuple[IPAddr, ...]
    sync_group: str | None
    stats: VrrpStats
