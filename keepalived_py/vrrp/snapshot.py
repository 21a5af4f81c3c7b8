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
class AddressView:
    """One virtual address with every option keepalived's format_ipaddress() prints but
    whether it is installed (that is the instance's `vipset`, a moment's fact)."""

    text: str
    """address[/prefix] as ipaddresstos() prints it (no /32 or /128)"""
    dev: str
    base_dev: str | None = None
    """the VMAC's base interface when `dev` is a VMAC ('dev vrrp.51@eth0')"""
    broadcast: str | None = None
    scope: str = "global"
    label: str | None = None
    peer: str | None = None
    flags: tuple[str, ...] = ()
    """home, -nodad, mngtmpaddr, noprefixroute, autojoin, in keepalived's order"""
    no_track: bool = False
    track_group: str | None = None
    preferred_lft: str | None = None
    """IPv6 only: 'deprecated', 'preferred_lft forever' or 'preferred_lft N'"""


@dataclass(frozen=True, slots=True)
class NotifyView:
    """A notify script: keepalived's JSON key ('script_master'), the dump's word
    ('Master'), the command as cmd_str() shows it, and the user it runs as."""

    key: str
    word: str
    command: str
    uid: int = 0
    gid: int = 0


@dataclass(frozen=True, slots=True)
class TrackedView:
    kind: str
    """interface, script, file, process, bfd"""
    name: str
    weight: int
    reverse: bool = False


@dataclass(frozen=True, slots=True)
class InstanceSettings:
    """What the dumps print about an instance that the VRRP core does not need: the
    configured options as the runtime resolved them (global defaults applied), script
    commands as the script runner resolved them. The runtime owns these; the core's
    snapshot carries them so that every view reads one value."""

    vmac_ifname: str = ""
    strict_mode: bool = False
    accept: bool = True
    promote_secondaries: bool = False
    smtp_alert: bool = False
    notify_deleted: bool = False
    garp_delay_s: float = 5.0
    garp_refresh_s: float = 0.0
    garp_rep: int = 5
    garp_refresh_rep: int = 1
    garp_lower_prio_delay_s: float = 5.0
    garp_lower_prio_rep: int = 5
    lower_prio_no_advert: bool = False
    higher_prio_send_advert: bool = False
    skip_check_adv_addr: bool = False
    dont_track_primary: bool = False
    auth_type: int = 0
    """keepalived's numbers: 0 none, 1 PASS, 2 AH (always 0 for VRRPv3)"""
    auth_data: str = ""
    scripts: tuple[NotifyView, ...] = ()
    """each notify script configured, in vrrp_json.c's order"""
    vips: tuple[AddressView, ...] = ()
    evips: tuple[AddressView, ...] = ()
    vroutes: tuple[str, ...] = ()
    vrules: tuple[str, ...] = ()
    track_ifp: tuple[str, ...] = ()
    track_script: tuple[str, ...] = ()
    """the tracked scripts' commands (cmd_str)"""
    track_script_names: tuple[str, ...] = ()
    tracked: tuple[TrackedView, ...] = ()
    """every tracked object with its weight, as keepalived.data lists them"""
    mcast_dst: str | None = None
    """None for unicast"""
    down_timer_adverts: int = 3
    source_from_config: bool = False
    notify_priority_changes: bool = False
    unicast_ttl: int | None = None
    check_unicast_src: bool = False
    any_flag: bool = False
    """keepalived's vrrp->flags is not 0 (the data dump then says "Flags:", not "Flags: none")"""
    unicast_configured: bool = False
    unicast_chksum_compat: str = "no"
    mcast_ifindex: int = 0
    debug: int = 0
    vmac_addr: bool = False
    """use_vmac_addr: 'Use VMAC for VIPs on other interfaces'"""
    ipvlan: str = ""
    """use_ipvlan: keepalived.data's 'Use IPVLAN, ...' text after 'Use IPVLAN, ' ('' without)"""
    """the instance's `debug` level (0-4): keepalived 2.2.7 only prints it in keepalived.data"""


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
    sands: float | None = None
    """Monotonic time of the instance's next timer (keepalived's 'Read timeout')."""
    total_priority: int | None = None
    """base priority plus every tracked weight, before clamping to 1..254"""
    num_script_if_fault: int = 0
    num_script_init: int = 0
    settings: InstanceSettings | None = None
    """Filled by the runtime (the core has no config beyond its parameters); None only
    for a bare core snapshot, which the views print with keepalived's defaults."""
