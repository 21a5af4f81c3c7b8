"""vrrp_instance, vrrp_sync_group and garp_group (keepalived.conf(5) 'VRRPD CONFIGURATION').

Every keyword keepalived 2.2.7 installs for these blocks (keepalived/vrrp/vrrp_parser.c,
init_vrrp_keywords) is declared here. A field whose keepalived default depends on
global_defs or on other keywords (priority, version, garp_*, strict_mode, accept ...) is
None when the keyword is absent; the `effective_*` helpers resolve it the way
vrrp_complete_instance() does.
"""

from __future__ import annotations

import ipaddress
from typing import Any

from keepalived_py.config.model.addresses import (
    RouteEntry,
    RouteOrRule,
    RuleEntry,
    VirtualAddress,
    VirtualAddressEntry,
)
from keepalived_py.config.model.newer_types import AuthHmac, OptPriority
from keepalived_py.config.model.vrrp_types import (
    AuthPass,
    AuthType,
    IfName,
    NameList,
    NotifyDeleted,
    NotifyDeletedType,
    TrackEntry,
    TrackRef,
    UnicastPeer,
    UnicastPeerEntry,
    UseIpvlan,
    UseIpvlanType,
    UseVmac,
    UseVmacType,
    VrrpState,
    flatten,
    warn_with,
)
from keepalived_py.config.numbers import INT_MAX, UINT_MAX
from keepalived_py.config.schema import Entries, Model, Nested, Present, Word, head, kw, model
from keepalived_py.config.values import (
    Decimal,
    GarpExtraIf,
    GarpExtraIfType,
    IpAddr,
    NotifyScript,
    NotifyScriptType,
    Number,
    OptBool,
    OptChoice,
    Str,
)

PRIO_OWNER = 255
PRIO_DEFAULT = 100
_SECS_MAX = UINT_MAX // 1_000_000


@model
class VrrpAuthentication(Model):
    """authentication { auth_type PASS|AH  auth_pass PASSWORD } (VRRPv2 only)."""

    block_keyword = "authentication"

    auth_type: str | None = kw(AuthType())
    auth_pass: str | None = kw(AuthPass())


def _track(kind: str) -> Any:
    return kw(Entries(TrackEntry(kind)))


def _notify(keyword: str, group: bool = False) -> Any:
    """A notify script keyword; keepalived keeps the first and reports a repeat."""
    where = "vrrp group: " if group else ""
    return kw(NotifyScriptType(), once=f"{where}{keyword} script already specified - ignoring {{arg}}")


@model
class VrrpInstance(Model):
    block_keyword = "vrrp_instance"

    #: "" when missing: keepalived reports "vrrp_instance must have a name" and skips the block
    name: str = head(Word(), default="", optional=True)

    # --- where and how adverts go
    #: MASTER|BACKUP; None: derived from priority (255 -> MASTER)
    state: str | None = kw(VrrpState())
    interface: str | None = kw(IfName())
    #: unicast without interface: the VRF to operate in
    vrf: str | None = kw(IfName("({n}) VRF interface name '{v}' too long - ignoring"))
    use_vmac: UseVmac | None = kw(UseVmacType())
    use_vmac_addr: bool = kw(Present(), default=False)
    vmac_xmit_base: bool = kw(Present(), default=False)
    use_ipvlan: UseIpvlan | None = kw(UseIpvlanType(), once="use_ipvlan already specified")
    native_ipv6: bool = kw(Present(), default=False)
    dont_track_primary: bool = kw(Present(), default=False)
    mcast_src_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = kw(
        IpAddr("Configuration error: VRRP instance[{n}] malformed src address[{v}]. Skipping..."))
    unicast_src_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = kw(
        IpAddr("Configuration error: VRRP instance[{n}] malformed src address[{v}]. Skipping..."))
    mcast_dst_ip: ipaddress.IPv4Address | ipaddress.IPv6Address | None = kw(
        IpAddr("({n}) malformed mcast dest address {v}. Skipping...", multicast=True))
    track_src_ip: bool = kw(Present(), default=False)
    unicast_peer: tuple[UnicastPeer, ...] = kw(Entries(UnicastPeerEntry()))
    unicast_fault_no_peer: bool = kw(Present(), default=False)
    check_unicast_src: bool = kw(Present(), default=False)
    #: None: keepalived's default (255 for IPv4 adverts, the kernel's for IPv6)
    unicast_ttl: int | None = kw(Number(0, 255, error="({n}): TTL '{v}' not valid - must be between 0 & 255"))
    #: 'config' (old VRRPv3 unicast checksum) or 'never' (no detection of old checksums)
    old_unicast_checksum: str | None = kw(OptChoice("config", "never",
                                                    error="({n}) Unknown old_unicast_chksum mode {v} - ignoring"))

    # --- the virtual router
    virtual_router_id: int | None = kw(Number(1, 255, error="({n}): VRID '{v}' not valid - must be between 1 & 255"))
    #: None: 255 if state MASTER, else 100
    priority: int | None = kw(Number(1, PRIO_OWNER, error="({n}) Priority not valid! must be between 1 & 255. "
                                                        "Using default 100", fallback=PRIO_DEFAULT))
    #: seconds; None: 1 second
    advert_int: float | None = kw(Decimal(0.01, 255, error="({n}) Advert interval ({v}) not valid! "
                                                            "Must be > 0 - ignoring"))
    #: 2 or 3; None: global vrrp_version (IPv6: 3; see effective_version)
    version: int | None = kw(Number(2, 3, signed=True, error="({n}): Version must be either 2 or 3"))
    #: a repeated block sets what it says on top of the first (keepalived's handlers just assign)
    authentication: VrrpAuthentication | None = kw(Nested(VrrpAuthentication), merge=True)
    virtual_ipaddress: tuple[VirtualAddress, ...] = kw(Entries(VirtualAddressEntry()))
    virtual_ipaddress_excluded: tuple[VirtualAddress, ...] = kw(Entries(VirtualAddressEntry()))
    promote_secondaries: bool = kw(Present(), default=False)
    virtual_routes: tuple[RouteOrRule, ...] = kw(Entries(RouteEntry()))
    virtual_rules: tuple[RouteOrRule, ...] = kw(Entries(RuleEntry()))
    #: None: accept unless strict mode (address owner always accepts)
    accept: bool | None = kw(Present(), alts={"no_accept": False})
    #: keepalived sets the flag for any valid <BOOL>, even 'off' (vrrp_parser.c); None: global
    skip_check_adv_addr: bool | None = kw(OptBool("({n}) invalid skip_check_adv_addr {v} specified"),
                                          check=lambda value, ctx: True)
    #: None: global vrrp_strict
    strict_mode: bool | None = kw(OptBool("({n}) invalid strict_mode {v} specified"))
    preempt: bool = kw(Present(), default=True, alts={"nopreempt": False})
    preempt_delay: float = kw(Decimal(0, 1000, error="({n}) Preempt_delay not valid! must be between 0-1000",
                                       fallback=0.0), default=0.0)
    debug: int = kw(Number(0, 4, error="({n}) Debug value '{v}' not valid; must be between 0-4"), default=0)

    # --- tracking
    track_interface: tuple[TrackRef, ...] = _track("interface")
    track_script: tuple[TrackRef, ...] = _track("script")
    track_file: tuple[TrackRef, ...] = _track("file")
    track_process: tuple[TrackRef, ...] = _track("process")
    track_bfd: tuple[TrackRef, ...] = _track("bfd")
    linkbeat_use_polling: bool = kw(Present(), default=False, check=warn_with(
        "({n}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block"))

    # --- notification
    notify_master: NotifyScript | None = _notify("notify_master")
    notify_backup: NotifyScript | None = _notify("notify_backup")
    notify_fault: NotifyScript | None = _notify("notify_fault")
    notify_stop: NotifyScript | None = _notify("notify_stop")
    notify_deleted: NotifyDeleted | None = kw(NotifyDeletedType(),
                                              once="notify_deleted already specified - ignoring {arg}")
    notify: NotifyScript | None = _notify("notify")
    notify_master_rx_lower_pri: NotifyScript | None = _notify("notify_master_rx_lower_pri")
    #: None: global smtp_alert_vrrp / smtp_alert
    smtp_alert: bool | None = kw(OptBool("Invalid vrrp_instance smtp_alert parameter {v}"))
    notify_priority_changes: bool | None = kw(OptBool("({n}) Invalid value '{v}' for notify_priority_changes "
                                                      "specified"))
    lvs_sync_daemon_interface: str | None = kw(Str(), check=warn_with(
        "({n}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated. Please use global "
        "lvs_sync_daemon"))

    # --- gratuitous ARP / NA and adverts (None: the global vrrp_* setting)
    garp_master_delay: int | None = kw(Number(0, _SECS_MAX, error="({n}): garp_master_delay '{v}' invalid - ignoring"))
    garp_master_repeat: int | None = kw(Number(0, UINT_MAX, error="({n}): garp_master_repeat '{v}' invalid - ignoring",
                                             zero=(1, "({n}): garp_master_repeat must be greater than 0, "
                                                      "setting to 1")))
    garp_master_refresh: int | None = kw(Number(0, UINT_MAX, error="({n}): Invalid garp_master_refresh '{v}' - "
                                                                 "ignoring", fallback=0))
    garp_master_refresh_repeat: int | None = kw(Number(0, UINT_MAX, error="({n}): garp_master_refresh_repeat '{v}' "
                                                                        "invalid - ignoring",
                                                     zero=(1, "({n}): garp_master_refresh_repeat must be greater "
                                                              "than 0, setting to 1")))
    garp_lower_prio_delay: int | None = kw(Number(0, _SECS_MAX, error="({n}): garp_lower_prio_delay '{v}' invalid - "
                                                                    "ignoring"))
    garp_lower_prio_repeat: int | None = kw(Number(0, INT_MAX, error="({n}): Invalid garp_lower_prio_repeat '{v}'"))
    garp_extra_if: GarpExtraIf | None = kw(GarpExtraIfType(0), deprecated=("vmac_garp_intvl",))
    down_timer_adverts: int | None = kw(Number(1, 100, error="({n}): Invalid down_timer_adverts [1:100] '{v}'"))
    lower_prio_no_advert: bool | None = kw(OptBool("({n}) invalid lower_prio_no_advert {v} specified"))
    higher_prio_send_advert: bool | None = kw(OptBool("({n}) invalid higher_prio_send_advert {v} specified"))
    kernel_rx_buf_size: int | None = kw(Number(0, UINT_MAX, error="({n}) invalid kernel_rx_buf_size specified",
                                             exact_args=True))

    # --- keywords of newer keepalived releases (2.2.7 rejects them; docs/newer-keywords.md)
    #: an address owner drops the adverts it receives; None: on under strict mode, else the
    #: global vrrp_owner_ignore_adverts (see effective_owner_ignore_adverts)
    owner_ignore_adverts: bool | None = kw(OptBool("({n}) invalid {kw} {v} specified"), since="2.3.3")
    #: allow an instance without VIPs (no warning; VRRPv3 too); cleared under strict mode
    no_virtual_ipaddress: bool = kw(Present(), default=False, since="2.2.8")
    #: VRRPv3 over IPv4 with the VRRPv2 checksum (no pseudo-header); None: the global one
    v3_checksum_as_v2: bool | None = kw(OptBool("({n}) invalid v3_checksum_as_v2 {v} specified"), since="2.2.8")
    #: a nopreempt master whose timers ran late steps down when another router may have taken
    #: over: the highest priority of the others (alone: 254)
    timer_expired_backup: int | None = kw(OptPriority(), since="2.2.8")
    #: upstream's first name for timer_expired_backup (it says to replace it)
    thread_timer_expired: int | None = kw(OptPriority(), since="2.3.2", check=warn_with(
        "({n}) thread_timer_expired - please replace with keyword 'timer_expired_backup'"))
    auth_hmac: AuthHmac | None = kw(Nested(AuthHmac), merge=True, since="2.4.0")

    # ------------------------------------------------------------------ derived values
    @property
    def unicast_configured(self) -> bool:
        """A unicast keyword was given (keepalived's VRRP_FLAG_UNICAST_CONFIGURED)."""
        return bool(self.unicast_peer or self.unicast_src_ip is not None or self.unicast_fault_no_peer
                    or self.check_unicast_src or self.old_unicast_checksum is not None)

    @property
    def unicast(self) -> bool:
        """Adverts go to unicast peers (some unicast keyword and at least one peer)."""
        return bool(self.unicast_peer)

    @property
    def source_address(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        """The configured source address (unicast_src_ip/mcast_src_ip, or the ipvlan address)."""
        if self.unicast_src_ip is not None:
            return self.unicast_src_ip
        if self.mcast_src_ip is not None:
            return self.mcast_src_ip
        if self.use_ipvlan is not None and self.use_ipvlan.address is not None:
            return self.use_ipvlan.address.ip
        return None

    @property
    def family(self) -> int:
        """4 or 6, decided as keepalived does: the first of native_ipv6, source address, unicast
        peer, mcast_dst_ip or virtual_ipaddress that says; IPv4 if none does."""
        for version in self._family_hints():
            return version
        return 4

    def _family_hints(self):
        if self.native_ipv6:
            yield 6
        if self.use_ipvlan is not None and self.use_ipvlan.address is not None:
            yield self.use_ipvlan.address.version
        for addr in (self.mcast_src_ip, self.unicast_src_ip, self.mcast_dst_ip):
            if addr is not None:
                yield addr.version
        for peer in self.unicast_peer:
            yield peer.address.version
        for vip in self.virtual_ipaddress:
            yield vip.address.version

    def effective_version(self, global_version: int = 2, global_strict: bool = False) -> int:
        """The VRRP version keepalived runs: `version`, else the global vrrp_version; IPv6 is 3,
        except that keepalived keeps an explicit `version 2` given before anything made the
        instance IPv6 (native_ipv6 or an IPv6 source/multicast address), unless strict."""
        if self.family == 6:
            if self.version == 2 and not self.native_ipv6 and not self.effective_strict(global_strict):
                early = (self.mcast_src_ip, self.unicast_src_ip, self.mcast_dst_ip)
                if not any(a is not None and a.version == 6 for a in early):
                    return 2
            return 3
        return self.version if self.version is not None else global_version

    @property
    def effective_priority(self) -> int:
        if self.priority is not None:
            return self.priority
        return PRIO_OWNER if self.state == "MASTER" else PRIO_DEFAULT

    @property
    def effective_state(self) -> str:
        if self.state is not None:
            return self.state
        return "MASTER" if self.effective_priority == PRIO_OWNER else "BACKUP"

    @property
    def address_owner(self) -> bool:
        return self.effective_priority == PRIO_OWNER

    def effective_advert_int(self, global_version: int = 2, global_strict: bool = False) -> float:
        """advert_int after keepalived's per-version rounding and limits (seconds)."""
        return round_advert_int(self.advert_int, self.effective_version(global_version, global_strict))[0]

    def effective_strict(self, global_strict: bool = False) -> bool:
        return self.strict_mode if self.strict_mode is not None else global_strict

    def effective_accept(self, global_strict: bool = False, global_version: int = 2) -> bool:
        """Accept mode: as given, else on unless strict (the address owner always accepts); strict
        VRRPv2 does not accept as a non-owner."""
        if self.accept is not None:
            accept = self.accept
        else:
            accept = True if self.address_owner else not self.effective_strict(global_strict)
        if accept and not self.address_owner and self.effective_strict(global_strict) and \
                self.effective_version(global_version, global_strict) == 2:
            return False
        return accept

    # The rest follow vrrp_complete_instance(): an unset keyword takes the global value, and
    # strict mode forces the RFC behaviour whatever was configured.
    def effective_preempt(self) -> bool:
        """nopreempt is cleared for the address owner and for initial state MASTER."""
        return self.preempt or self.address_owner or self.effective_state == "MASTER"

    def effective_preempt_delay(self, global_strict: bool = False) -> float:
        if self.effective_state == "MASTER" or self.effective_strict(global_strict) or not self.effective_preempt():
            return 0.0
        return self.preempt_delay

    def effective_down_timer_adverts(self, global_value: int = 3, global_strict: bool = False) -> int:
        value = self.down_timer_adverts if self.down_timer_adverts is not None else global_value
        return 3 if self.effective_strict(global_strict) else value

    def effective_garp_lower_prio_repeat(self, global_value: int | None = None, global_garp_repeat: int = 5,
                                         global_strict: bool = False) -> int:
        if self.effective_strict(global_strict):
            return 0
        if self.garp_lower_prio_repeat is not None:
            return self.garp_lower_prio_repeat
        return global_value if global_value is not None else global_garp_repeat

    def effective_garp_lower_prio_delay(self, global_value: float | None = None, global_garp_delay: float = 5.0,
                                        global_strict: bool = False) -> float:
        if self.effective_strict(global_strict):
            return 0.0
        if self.garp_lower_prio_delay is not None:
            return float(self.garp_lower_prio_delay)
        return float(global_value if global_value is not None else global_garp_delay)

    def effective_lower_prio_no_advert(self, global_value: bool = False, global_strict: bool = False) -> bool:
        if self.effective_strict(global_strict):
            return True
        return self.lower_prio_no_advert if self.lower_prio_no_advert is not None else global_value

    def effective_owner_ignore_adverts(self, global_value: bool = False, global_strict: bool = False) -> bool:
        """Whether received adverts are dropped (upstream vrrp_complete_instance): only for an
        address owner (priority 255); unset, on under strict mode, else the global setting;
        an explicit 'false' on an address owner is forced on (upstream reports it)."""
        if self.effective_priority != PRIO_OWNER:
            return False
        if self.owner_ignore_adverts is None:
            return True if self.effective_strict(global_strict) else global_value
        return True

    @property
    def effective_timer_expired_backup(self) -> int:
        """timer_expired_backup (or its first name); 0: off. Upstream needs nopreempt for it."""
        value = self.timer_expired_backup if self.timer_expired_backup is not None else self.thread_timer_expired
        # nopreempt itself is cleared for an address owner and for initial state MASTER
        nopreempt = not self.preempt and self.effective_priority != PRIO_OWNER and self.state != "MASTER"
        return value if value is not None and nopreempt else 0

    def effective_higher_prio_send_advert(self, global_value: bool = False, global_strict: bool = False) -> bool:
        if self.effective_strict(global_strict):
            return False
        return self.higher_prio_send_advert if self.higher_prio_send_advert is not None else global_value

    def effective_smtp_alert(self, global_smtp_alert_vrrp: bool | None = None,
                             global_smtp_alert: bool | None = None) -> bool:
        for value in (self.smtp_alert, global_smtp_alert_vrrp, global_smtp_alert):
            if value is not None:
                return value
        return False

    def effective_unicast_ttl(self) -> int | None:
        """The TTL/hop limit of unicast adverts; None for IPv6: the kernel's default."""
        if self.unicast_ttl is not None and self.unicast_peer:
            return self.unicast_ttl
        return 255 if self.family == 4 else None


def round_advert_int(advert_int: float | None, version: int) -> tuple[float, str | None]:
    """keepalived's advert interval rules: (interval, message or None).

    VRRPv2 carries whole seconds < 256; VRRPv3 carries centiseconds < 4096 (40.95 s).
    Fractions are rounded to the nearest unit (half up), never to 0.
    """
    hz = 1_000_000
    units = round((advert_int if advert_int is not None else 1.0) * hz)
    if version == 2:
        if units >= 256 * hz:
            return 255.0, (f"VRRPv2 advertisement interval {units / hz:.2f}s is out of range. "
                           "Must be less than 256s. Setting to 255s")
        if units % hz:
            rounded = (units + hz // 2) // hz * hz or hz
            return rounded / hz, f"VRRPv2 advertisement interval {units / hz:f}s must be an integer. rounding"
        return units / hz, None
    centi = hz // 100
    if units >= 4096 * centi:
        return 40.95, (f"VRRPv3 advertisement interval {units / hz:.2f}s is out of range. "
                       "Must be less than 40.96s. Setting to 40.95s")
    if units % centi:
        rounded = (units + centi // 2) // centi * centi or centi
        return rounded / hz, (f"VRRPv3 advertisement interval {units / hz:f}s must be in units of 10ms - "
                              "rounding")
    return units / hz, None


@model
class VrrpSyncGroup(Model):
    block_keyword = "vrrp_sync_group"

    #: "" when missing: keepalived reports "vrrp_sync_group must have a name - skipping"
    name: str = head(Word(), default="", optional=True)
    group: tuple[str, ...] = kw(Entries(NameList()), check=flatten,
                                once="Group list already specified for sync group")
    track_interface: tuple[TrackRef, ...] = _track("interface")
    track_script: tuple[TrackRef, ...] = _track("script")
    track_file: tuple[TrackRef, ...] = _track("file")
    track_process: tuple[TrackRef, ...] = _track("process")
    track_bfd: tuple[TrackRef, ...] = _track("bfd")
    notify_master: NotifyScript | None = _notify("notify_master", group=True)
    notify_backup: NotifyScript | None = _notify("notify_backup", group=True)
    notify_fault: NotifyScript | None = _notify("notify_fault", group=True)
    notify_stop: NotifyScript | None = _notify("notify_stop", group=True)
    notify: NotifyScript | None = _notify("notify", group=True)
    smtp_alert: bool | None = kw(OptBool("Invalid vrrp_group smtp_alert parameter {v}"))
    notify_priority_changes: bool | None = kw(OptBool("({n}) Invalid value '{v}' for sync group "
                                                      "notify_priority_changes specified"))
    #: deprecated by keepalived (reported as an error); same effect as sync_group_tracking_weight
    global_tracking: bool = kw(Present(), default=False, check=warn_with(
        "({n}) global_tracking is deprecated. Use track_interface/script/file on the sync group"))
    sync_group_tracking_weight: bool = kw(Present(), default=False)

    @property
    def tracking_weight(self) -> bool:
        """Members keep their tracking weights (sync_group_tracking_weight or global_tracking)."""
        return self.sync_group_tracking_weight or self.global_tracking


@model
class GarpGroup(Model):
    """garp_group { ... }: GARP/NA pacing for one interface or an aggregate of interfaces."""

    block_keyword = "garp_group"

    garp_interval: float | None = kw(Decimal(0, INT_MAX / 1_000_000,
                                              error="garp_group garp_interval '{v}' invalid"))
    gna_interval: float | None = kw(Decimal(0, INT_MAX / 1_000_000,
                                             error="garp_group gna_interval '{v}' invalid"))
    interface: str | None = kw(Str())
    interfaces: tuple[str, ...] = kw(Entries(NameList()), check=flatten)


__all__ = [
    "GarpGroup",
    "PRIO_OWNER",
    "VrrpAuthentication",
    "VrrpInstance",
    "VrrpSyncGroup",
    "round_advert_int",
]
