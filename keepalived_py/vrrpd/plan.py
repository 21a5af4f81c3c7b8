"""keepalived.conf models -> what the VRRP runtime runs: one `InstancePlan` per vrrp_instance.

Defaults come from global_defs the way keepalived's vrrp_complete_instance() resolves them
(vrrp_version, vrrp_garp_*, vrrp_skip_check_adv_addr, vrrp_strict, ...). The plan keeps the
config entries (addresses with their options, routes, rules) by the keys the state machine's
actions carry, so that the executor can install them with every option.

The source address is resolved at run time (the interface's primary address unless
mcast_src_ip / unicast_src_ip says), hence `InstancePlan.params(primary)`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv6Address
from typing import Any

from keepalived_py.config.model.addresses import DEFAULT_INTERFACE, VirtualAddress
from keepalived_py.config.model.global_defs import GlobalDefs
from keepalived_py.config.model.root import KeepalivedConfig
from keepalived_py.config.model.route_entry import RouteEntry
from keepalived_py.config.model.routes import Route
from keepalived_py.config.model.rules import Rule, RuleEntry
from keepalived_py.config.model.vrrp import VrrpInstance as VrrpInstanceModel
from keepalived_py.config.model.vrrp import VrrpSyncGroup
from keepalived_py.net.ports import AddressSpec
from keepalived_py.net.vmac import vmac_address, vmac_name
from keepalived_py.vrrp.packet import AuthType, Family
from keepalived_py.vrrp.params import UnicastPeer, VrrpInstanceParams
from keepalived_py.vrrp.sync_group import owner_member_weights
from keepalived_py.vrrp.tracking import TrackedObject
from keepalived_py.vrrpd.static_track import static_tracking
from keepalived_py.vrrpd.track_bfd import vrrp_tracked_bfds

IPAddr = IPv4Address | IPv6Address
IFA_F_NODAD = 0x02
IFA_F_HOMEADDRESS = 0x10
IFA_F_MANAGETEMPADDR = 0x100
IFA_F_NOPREFIXROUTE = 0x200
IFA_F_MCAUTOJOIN = 0x400
Key = tuple[str, int, int]


@dataclass(frozen=True)
class VmacPlan:
    """The interface keepalived makes for an instance: a macvlan (use_vmac) or an ipvlan
    (use_ipvlan: the base's MAC, `mode` bridge/private/vepa, `address` its own)."""

    name: str
    mac: bytes
    base: str
    xmit_base: bool
    kind: str = "macvlan"
    mode: str | None = None
    address: Any = None  # IPv4Interface | IPv6Interface, use_ipvlan's
    ipv6: bool = True  # False: IPv6 off on the link (an IPv4 ipvlan without IPv6 eVIPs)


@dataclass(frozen=True)
class InstancePlan:
    name: str
    key: Key  # (configured interface, vrid, family)
    base_params: dict[str, Any]  # VrrpInstanceParams fields but primary_address
    source: IPAddr | None  # mcast_src_ip / unicast_src_ip
    tracked: tuple[TrackedObject, ...]
    addresses: dict[IPAddr, AddressSpec]  # by address, every option
    address_no_track: frozenset[IPAddr]
    routes: dict[str, Route]
    rules: dict[str, Rule]
    vmac: VmacPlan | None
    unicast_ttl: int
    accept: bool
    strict: bool
    garp_interval_s: float
    gna_interval_s: float
    model: VrrpInstanceModel = field(compare=False)
    #: VMACs made for VIPs on other interfaces / of the other family (use_vmac_addr, a
    #: VIP's own use_vmac), their addresses' `ifname` already pointing at them
    addr_vmacs: tuple[VmacPlan, ...] = ()
    #: the socket receive buffer share: ("size", bytes), ("mtu", multiplier) or None
    rx_buf: tuple[str, int] | None = None

    @property
    def interface(self) -> str:
        """Where adverts are received and VIPs live (the VMAC with use_vmac)."""
        return self.vmac.name if self.vmac is not None else self.key[0]

    @property
    def xmit_interface(self) -> str:
        if self.vmac is not None and not self.vmac.xmit_base:
            return self.vmac.name
        return self.key[0]

    @property
    def family(self) -> int:
        return self.key[2]

    def params(self, primary: IPAddr | None) -> VrrpInstanceParams:
        return VrrpInstanceParams(**self.base_params, primary_address=primary)

    def same_as(self, other: InstancePlan) -> bool:
        """Unchanged for a reload (the model's source position does not count)."""
        a = dataclasses.replace(self, model=None)  # type: ignore[arg-type]
        b = dataclasses.replace(other, model=None)  # type: ignore[arg-type]
        return a == b


def route_key(route: Route) -> str:
    return " ".join(RouteEntry().format(route))


def rule_key(rule: Rule) -> str:
    return " ".join(RuleEntry().format(rule))


def address_spec(va: VirtualAddress, default_dev: str) -> AddressSpec:
    flags = 0
    if va.family == 6:
        flags |= IFA_F_NODAD  # keepalived adds IPv6 VIPs without DAD
    if va.home:
        flags |= IFA_F_HOMEADDRESS
    if va.mngtmpaddr:
        flags |= IFA_F_MANAGETEMPADDR
    if va.noprefixroute:
        flags |= IFA_F_NOPREFIXROUTE
    if va.autojoin:
        flags |= IFA_F_MCAUTOJOIN
    return AddressSpec(
        ifname=va.dev or default_dev, address=va.address, broadcast=va.broadcast,
        scope=va.scope or 0, label=va.label, peer=va.peer, flags=flags,
        preferred_lft=va.effective_preferred_lft)


def _g(config: KeepalivedConfig) -> GlobalDefs:
    return config.global_defs if config.global_defs is not None else GlobalDefs()


def _pick(value, default):
    return default if value is None else value


def plan_instance(inst: VrrpInstanceModel, config: KeepalivedConfig,
                  taken: dict[tuple[str, int, int], str] | None = None,
                  static_ifs: tuple[str, ...] = ()) -> InstancePlan:
    """`taken`: the VIP VMACs named so far, by (base, vrid, family), shared by plan_all
    so that instances name theirs as keepalived does, one after the other. `static_ifs`:
    the interfaces its static track groups make it track (static_track.py)."""
    g = _g(config)
    family = inst.family
    version = inst.effective_version(g.vrrp_version, g.vrrp_strict)
    strict = inst.effective_strict(g.vrrp_strict)
    ifname = inst.interface or ""
    vmac = None
    if inst.use_vmac is not None:
        mac = vmac_address(inst.virtual_router_id or 1, family)
        vmac = VmacPlan(vmac_name(inst.virtual_router_id or 1, family, inst.use_vmac.ifname,
                                  g.vmac_prefix), mac, ifname, inst.vmac_xmit_base)
    elif inst.use_ipvlan is not None:
        vmac = VmacPlan(vmac_name(inst.virtual_router_id or 1, family, inst.use_ipvlan.ifname, g.vmac_prefix),
                        b"", ifname, False, "ipvlan", inst.use_ipvlan.mode, inst.use_ipvlan.address,
                        # netlink_link_add_ipvlan: link_set_ipv6(ifp, false) unless needed
                        ipv6=family == 6 or any(v.family == 6 for v in inst.virtual_ipaddress_excluded))
    vip_dev = vmac.name if vmac is not None else ifname
    vips = tuple(v for v in inst.virtual_ipaddress if v.family == family)
    excluded = tuple(inst.virtual_ipaddress_excluded)
    # keepalived: addresses of the other family in virtual_ipaddress are ignored (warned)
    addresses: dict[IPAddr, AddressSpec] = {}
    addr_vmacs: dict[str, VmacPlan] = {}
    for va in vips + excluded:
        # vrrp.c: on the instance's VMAC if of its family, else on the configured interface
        # (so also with use_ipvlan, whose flag is not VRRP_VMAC_BIT)
        own_vmac = vmac is not None and vmac.kind == "macvlan" and va.family == family
        spec = address_spec(va, vip_dev if own_vmac else ifname)
        extra = _addr_vmac(inst, va, ifname, family, vmac, config, taken if taken is not None else {})
        if extra is not None:
            addr_vmacs.setdefault(extra.name, extra)
            spec = dataclasses.replace(spec, ifname=extra.name)
        addresses.setdefault(va.address.ip, spec)
    no_track = frozenset(va.address.ip for va in vips + excluded if va.no_track)
    routes = {route_key(r): r for r in inst.virtual_routes if isinstance(r, Route)}
    rules = {rule_key(r): r for r in inst.virtual_rules if isinstance(r, Rule)}
    auth = inst.authentication
    auth_type = AuthType.NONE
    auth_pass = ""
    if auth is not None and version == 2:
        auth_type = {"PASS": AuthType.PASS, "AH": AuthType.AH}.get((auth.auth_type or "").upper(), AuthType.NONE)
        auth_pass = auth.auth_pass or ""
    peers = tuple(UnicastPeer(p.address, p.min_ttl or 0, 255 if p.max_ttl is None else p.max_ttl)
                  for p in inst.unicast_peer if p.address.version == family)
    check_unicast_src = bool(inst.check_unicast_src or g.vrrp_check_unicast_src
                             or any(p.min_ttl is not None or p.max_ttl is not None for p in inst.unicast_peer))
    g_rep, g_delay, g_refresh_rep = g.vrrp_garp_master_repeat, g.vrrp_garp_master_delay, g.vrrp_garp_master_refresh_repeat
    if g.vrrp_min_garp:
        # keepalived: one GARP/NA, no delay, for the global values still at their defaults
        g_rep = 1 if g_rep == 5 else g_rep
        g_delay = 0 if g_delay == 5 else g_delay
        g_refresh_rep = 0 if g_refresh_rep == 1 else g_refresh_rep
    garp_delay = _pick(inst.garp_master_delay, g_delay)
    lower_prio_no_advert = _pick(inst.lower_prio_no_advert, _pick(g.vrrp_lower_prio_no_advert, strict))
    # strict mode forces it off in keepalived (the model's rule, from vrrp_parser.c)
    higher_prio_send_advert = inst.effective_higher_prio_send_advert(bool(g.vrrp_higher_prio_send_advert), g.vrrp_strict)
    skip_check = _pick(inst.skip_check_adv_addr, g.vrrp_skip_check_adv_addr)
    old_csum = {"never": "never", "config": "always"}.get(inst.old_unicast_checksum or "", "")
    mcast_dst = inst.mcast_dst_ip
    if mcast_dst is None:
        mcast_dst = g.vrrp_mcast_group4 if family == 4 else g.vrrp_mcast_group6
    tracked: list[TrackedObject] = tracked_objects(config, inst)
    for name in static_ifs:
        # static_track_group_init: weight 0, replacing a weighted track_interface of it
        obj = TrackedObject("interface", name, 0)
        same = [i for i, o in enumerate(tracked) if o.kind == "interface" and o.name == name]
        if same:
            tracked[same[0]] = obj
        else:
            tracked.append(obj)
    if inst.unicast_fault_no_peer and not peers:
        # keepalived: "Cannot use unicast without any peers - going to fault state" (a
        # configuration fault: the instance never leaves FAULT); an object that is down
        # from the start and never reported does exactly that
        tracked.append(TrackedObject("config", "unicast_fault_no_peer", 0, False, False))
    if inst.use_ipvlan is not None and family == 4 and inst.use_ipvlan.address is None:
        # vrrp.c: "IPv4 ipvlan requires a source ip address ... setting instance to fault state"
        tracked.append(TrackedObject("config", "ipvlan_no_address", 0, False, False))
    if inst.track_src_ip and inst.source_address is not None:
        # keepalived clears track_src_ip unless the source address is configured (vrrp.c)
        tracked.append(TrackedObject("saddr", saddr_name(ifname if family == 4 else vip_dev,
                                                         inst.source_address), 0, False, True))
    garp_interval = g.vrrp_garp_interval
    gna_interval = g.vrrp_gna_interval
    for gg in config.garp_group:
        if ifname == gg.interface or ifname in gg.interfaces:
            garp_interval = _pick(gg.garp_interval, garp_interval)
            gna_interval = _pick(gg.gna_interval, gna_interval)
    base = dict(
        name=inst.name, interface=vip_dev, vrid=inst.virtual_router_id or 0,
        priority=inst.effective_priority, version=version,
        family=Family.INET if family == 4 else Family.INET6,
        advert_int_s=inst.effective_advert_int(g.vrrp_version, g.vrrp_strict), state=inst.effective_state,
        nopreempt=not inst.preempt, preempt_delay_s=float(inst.preempt_delay or 0),
        virtual_ipaddress=tuple(v.address.ip for v in vips),
        virtual_ipaddress_excluded=tuple(v.address.ip for v in excluded if v.address.ip not in
                                         {x.address.ip for x in vips}),
        virtual_routes=tuple(routes), virtual_rules=tuple(rules),
        auth_type=auth_type, auth_pass=auth_pass, unicast_peers=peers,
        check_unicast_src=check_unicast_src, mcast_dst=mcast_dst, old_unicast_checksum=old_csum,
        garp_master_delay_s=float(garp_delay),
        garp_master_repeat=_pick(inst.garp_master_repeat, g_rep),
        garp_master_refresh_s=float(_pick(inst.garp_master_refresh, g.vrrp_garp_master_refresh)),
        garp_master_refresh_repeat=_pick(inst.garp_master_refresh_repeat, g_refresh_rep),
        # keepalived: unset -> the global vrrp_garp_lower_prio_* (itself defaulting to the
        # global garp delay / repeat, not the instance's); strict mode -> 0 (vrrp.c 3204-3217)
        garp_lower_prio_delay_s=0.0 if strict else float(_pick(inst.garp_lower_prio_delay,
                                                               _pick(g.vrrp_garp_lower_prio_delay, g_delay))),
        garp_lower_prio_repeat=0 if strict else _pick(inst.garp_lower_prio_repeat,
                                                      _pick(g.vrrp_garp_lower_prio_repeat, g_rep)),
        lower_prio_no_advert=bool(lower_prio_no_advert),
        higher_prio_send_advert=bool(higher_prio_send_advert),
        skip_check_adv_addr=bool(skip_check),
        down_timer_adverts=_pick(inst.down_timer_adverts, g.vrrp_down_timer_adverts),
        dont_track_primary=inst.dont_track_primary,
        **_garp_extra_if(inst, config, vip_dev, vmac, vips + excluded),
        # vrrp.c: the instance's, else its sync group's, else the global one
        notify_priority_changes=bool(_pick(inst.notify_priority_changes, _pick(
            next((sg.notify_priority_changes for sg in config.vrrp_sync_group if inst.name in sg.group), None),
            g.vrrp_notify_priority_changes))),
        # keepalived 2.3.3 (newer than 2.2.7): the owner drops received adverts
        owner_ignore_adverts=inst.effective_owner_ignore_adverts(g.vrrp_owner_ignore_adverts, g.vrrp_strict),
        v3_checksum_as_v2=_pick(inst.v3_checksum_as_v2, g.v3_checksum_as_v2),
        timer_expired_backup=inst.effective_timer_expired_backup,
    )
    return InstancePlan(
        name=inst.name, key=(ifname, inst.virtual_router_id or 0, family), base_params=base,
        source=inst.source_address, tracked=_ignored_weights(inst, config, tracked), addresses=addresses,
        address_no_track=no_track, routes=routes, rules=rules, vmac=vmac,
        unicast_ttl=inst.unicast_ttl if inst.unicast_ttl is not None else 255,
        accept=inst.effective_accept(g.vrrp_strict, g.vrrp_version), strict=strict,
        garp_interval_s=float(garp_interval), gna_interval_s=float(gna_interval), model=inst,
        addr_vmacs=tuple(addr_vmacs.values()),
        rx_buf=_rx_buf(inst, g, family, version, auth_type, len(vips)))


def _rx_buf(inst: VrrpInstanceModel, g: GlobalDefs, family: int, version: int, auth: AuthType,
            nvips: int) -> tuple[str, int] | None:
    """vrrp_scheduler.c: kernel_rx_buf_size, else vrrp_rx_bufs_policy's size, ADVERT
    (multiplier x the advert's length: vrrp_adv_len) or MTU (multiplier x the MTU)."""
    if inst.kernel_rx_buf_size:
        return "size", inst.kernel_rx_buf_size
    pol = g.vrrp_rx_bufs_policy
    if pol is None:
        return None
    if pol.size:
        return "size", pol.size
    mult = g.vrrp_rx_bufs_multiplier
    if pol.policy == "ADVERT":
        if family == 4:
            length = 8 + (8 if version == 2 else 0) + 4 * nvips + 20 + (24 if auth == AuthType.AH else 0)
        else:
            length = 8 + 16 * nvips
        return "size", mult * length
    if pol.policy == "MTU":
        return "mtu", mult
    return None


def _addr_vmac(inst: VrrpInstanceModel, va: VirtualAddress, ifname: str, family: int,
               vmac: VmacPlan | None, config: KeepalivedConfig,
               taken: dict[tuple[str, int, int], str]) -> VmacPlan | None:
    """vrrp.c vrrp_complete_instance: the VMAC a VIP gets of its own. With use_vmac_addr,
    a VIP on another interface, or of the other family on the instance's interface (a
    VIP's own `use_vmac` asks the same for that VIP), lives on a VMAC of the instance's
    VRID on that interface: one per (interface, family), named by create_vmac_name()
    (`vmac_addr_prefix`, else `vmac_prefix`, else vrrp; `.VRID`, then `N.VRID` for N = 1,
    2, ... - IPv6 tries 6 first - past the names instances and earlier VIPs took)."""
    dev = va.dev or ifname
    fam = va.family
    own = dev == ifname
    if own and vmac is not None and vmac.kind == "macvlan" and fam == family:
        return None  # on the instance's VMAC already
    if not (va.use_vmac or (inst.use_vmac_addr and (fam != family or not own))):
        return None
    vrid = inst.virtual_router_id or 1
    key = (dev, vrid, fam)
    name = taken.get(key)
    if name is None:
        g = _g(config)
        prefix = g.vmac_addr_prefix or g.vmac_prefix or "vrrp"
        used = set(taken.values()) | our_vmacs(config)
        nums = iter((6, 1, 2, 3, 4, 5, *range(7, 100)) if fam == 6 else range(1, 100))
        name = f"{prefix}.{vrid}"[:15]
        while name in used:
            name = f"{prefix}{next(nums)}.{vrid}"[:15]
        taken[key] = name
    return VmacPlan(name, vmac_address(vrid, fam), dev, False)


def saddr_name(ifname: str, address: IPAddr) -> str:
    """The tracked object of `track_src_ip`: the configured source address on the interface
    keepalived watches for it (the configured one for IPv4, the VMAC for IPv6)."""
    return f"{ifname} {address}"


def our_vmacs(config: KeepalivedConfig) -> frozenset[str]:
    """The macvlans this configuration makes (keepalived's is_ours interfaces)."""
    g = _g(config)
    return frozenset(vmac_name(i.virtual_router_id or 1, i.family, (i.use_vmac or i.use_ipvlan).ifname,
                               g.vmac_prefix)
                     for i in config.vrrp_instance if i.use_vmac is not None or i.use_ipvlan is not None)


def _garp_extra_if(inst: VrrpInstanceModel, config: KeepalivedConfig, own: str, vmac: VmacPlan | None,
                   vas: tuple[VirtualAddress, ...]) -> dict[str, Any]:
    """vrrp.c: garp_extra_if, else global vrrp_garp_extra_if; off unless a VIP lives on a
    VMAC of ours other than the instance's, or (with `all`) on another interface; then the
    first VIP of each such interface (and of the instance's own with vmac_xmit_base)."""
    g = _g(config)
    gx = inst.garp_extra_if if inst.garp_extra_if is not None else g.vrrp_garp_extra_if
    if gx is None or not gx.interval:
        return {}
    ours = our_vmacs(config)
    devs = [va.dev or own for va in vas]
    extra_vmac = any(d != own and d in ours for d in devs)
    extra_if = any(d != own and d not in ours for d in devs)
    if not extra_vmac and not (extra_if and gx.all):
        return {}
    xmit_base = vmac is not None and vmac.xmit_base
    pairs: dict[str, IPAddr] = {}
    for va, dev in zip(vas, devs, strict=True):
        if (dev not in ours and not gx.all) or (dev == own and not xmit_base):
            continue
        pairs.setdefault(dev, va.address.ip)
    return {"garp_extra_if_s": float(gx.interval), "garp_extra_if": tuple(pairs.items())}


def garp_delays(config: KeepalivedConfig) -> Callable[[str], tuple[Any, float, float]]:
    """keepalived's garp_delay per base interface: a garp_group's interfaces share one
    (its garp_interval / gna_interval, the globals where unset); any other interface has
    its own with the global vrrp_garp_interval / vrrp_gna_interval. -> (key, garp s, gna s)"""
    g = _g(config)
    groups = list(config.garp_group)

    def of(ifname: str) -> tuple[Any, float, float]:
        for n, gg in enumerate(groups):
            if ifname == gg.interface or ifname in gg.interfaces:
                return (("group", n), float(_pick(gg.garp_interval, g.vrrp_garp_interval)),
                        float(_pick(gg.gna_interval, g.vrrp_gna_interval)))
        return ("if", ifname), float(g.vrrp_garp_interval), float(g.vrrp_gna_interval)
    return of


def _ignored_weights(inst: VrrpInstanceModel, config: KeepalivedConfig,
                     tracked: list[TrackedObject]) -> tuple[TrackedObject, ...]:
    """vrrp.c vrrp_complete_instance(): a member of a sync group without
    sync_group_tracking_weight, or an address owner, runs no floating priority: tracked
    interfaces lose their weight (an owner stops tracking a weighted one), weighted
    scripts and bfds are dropped, a file of weight 1 (the default) gets 0 and another
    weighted file is dropped. The validator gives keepalived's messages for these."""
    sync = next((sg for sg in config.vrrp_sync_group if inst.name in sg.group), None)
    sync_no_weight = sync is not None and not sync.tracking_weight
    owner = inst.effective_priority == 255
    if not (sync_no_weight or owner):
        return tuple(tracked)
    out: list[TrackedObject] = []
    for obj in tracked:
        if obj.weight and obj.kind == "interface":
            if sync_no_weight:
                out.append(dataclasses.replace(obj, weight=0))
            continue
        if obj.weight and obj.kind in ("script", "bfd"):
            continue
        if obj.weight and obj.kind == "file":
            if obj.weight == 1:
                out.append(dataclasses.replace(obj, weight=0))
            continue
        out.append(obj)
    return tuple(out)


def plan_all(config: KeepalivedConfig, disabled: set[tuple[str, str]] | frozenset = frozenset()) -> dict[Key, InstancePlan]:
    out: dict[Key, InstancePlan] = {}
    taken: dict[tuple[str, int, int], str] = {}
    static = static_tracking(config, default_interface(config))[0] if config.track_group else {}
    for inst in config.vrrp_instance:
        if not inst.interface or not inst.virtual_router_id:
            continue  # keepalived rejects these at config time
        plan = plan_instance(inst, config, taken, static.get(inst.name, ()))
        if disabled:
            plan = dataclasses.replace(plan, tracked=tuple(
                o for o in plan.tracked if (o.kind, o.name) not in disabled))
        out.setdefault(plan.key, plan)
    return out


def static_addresses(config: KeepalivedConfig) -> list[AddressSpec]:
    """static_ipaddress; one without `dev` goes on the default interface (`default_interface`,
    else eth0: vrrp_ipaddress.c get_default_if()), whose absence -t reports as fatal."""
    default = default_interface(config)
    return [address_spec(va, va.dev or default) for va in config.static_ipaddress]


def default_interface(config: KeepalivedConfig) -> str:
    g = config.global_defs
    return (g.default_interface if g is not None else None) or DEFAULT_INTERFACE


def tracked_objects(config: KeepalivedConfig, holder: VrrpInstanceModel | VrrpSyncGroup) -> list[TrackedObject]:
    """The track_* lines of an instance or a sync group, each with the tracked object's own
    `weight [reverse]` unless the line gives its own (keepalived's alloc_track_*; a sync
    group's objects are added to every member, sync_group_tracking_init())."""
    tracked = [TrackedObject("interface", ref.name, ref.weight or 0, bool(ref.reverse))
               for ref in holder.track_interface]
    # kind -> (the config's objects by name, the default weight of a name not found)
    kinds = (("script", holder.track_script, {s.name: s for s in config.vrrp_script}, (0, False)),
             ("file", holder.track_file, {f.name: f for f in config.vrrp_track_file}, (1, False)),
             ("process", holder.track_process, {p.name: p for p in config.vrrp_track_process}, (0, False)))
    for kind, refs, objects, missing in kinds:
        for ref in refs:
            obj = objects.get(ref.name)
            weight, reverse = obj.weight if obj is not None else missing
            tracked.append(TrackedObject(kind, ref.name, weight if ref.weight is None else ref.weight,
                                         reverse if ref.reverse is None else ref.reverse, None))
    # track_bfd: which lines keepalived's vrrp process keeps, their weights and first state
    tracked += vrrp_tracked_bfds(config.bfd_instance, holder.track_bfd, holder.pos)
    return tracked


def sync_groups(config: KeepalivedConfig) -> list[tuple[str, tuple[str, ...], tuple[TrackedObject, ...]]]:
    """Each group's name, members and tracked objects; with an address owner member the
    objects lose their weights (owner_member_weights)."""
    prio = {i.name: i.effective_priority for i in config.vrrp_instance}
    out = []
    for sg in config.vrrp_sync_group:
        tracked = owner_member_weights(tracked_objects(config, sg), [prio[m] for m in sg.group if m in prio])
        out.append((sg.name, tuple(sg.group), tracked))
    return out


def linkbeat_polled(config: KeepalivedConfig, plans: Iterable[InstancePlan]) -> frozenset[str]:
    """The interfaces whose link state is polled instead of read from netlink (vrrp.c,
    vrrp_if.c init_interface_linkbeat): each instance's interface under the top-level
    `linkbeat_use_polling` or the instance's own (deprecated) one, and every
    `linkbeat_interfaces` entry; then only those some instance tracks (its interface,
    its base, a track_interface), never a VMAC ('netlink works for vmacs')."""
    plans = list(plans)
    wanted = {lb.interface for lb in config.linkbeat_interfaces}
    tracking: set[str] = set()
    for p in plans:
        if config.linkbeat_use_polling or p.model.linkbeat_use_polling:
            wanted.add(p.interface)
        tracking |= {p.interface, p.key[0]} | {o.name for o in p.tracked if o.kind == "interface"}
    return frozenset((wanted & tracking) - {p.vmac.name for p in plans if p.vmac is not None})
