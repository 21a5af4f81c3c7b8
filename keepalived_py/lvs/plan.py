"""The IPVS table keepalived 2.2.7 programs for a configuration, given which real servers are up.

Pure: typed config models in, a `Table` out. Which real servers are alive, their effective
weights and each virtual server's quorum state are inputs (`LiveState`): the checkers and the
quorum arithmetic in check/ decide them; without them a real server is up unless one of its
checkers starts in alpha mode, and quorum is keepalived's start-up quorum.

The mapping follows keepalived's check_parser.c (vs_end_handler, lbflags_handler, pgr_handler),
check_data.c (validate_check_config), ipwrapper.c (init_service_rs, update_quorum_state,
perform_quorum_state) and ipvswrapper.c (ipvs_set_srule, ipvs_set_drule, ipvs_cmd,
ipvs_group_cmd), including what a reader may not expect:
- a virtual_server_group's services get the host netmask: persistence_granularity is applied
  to plain address and fwmark services only (ipvs_group_range_cmd resets it);
- an IPv6 group range counts in its last 16 bits only; a group fwmark without a family takes
  the virtual server's, else IPv4;
- for DR and TUN a destination's port is the service's (0 for fwmark services); a NAT real
  server without a port gets the virtual server's port, except in a group;
- tunnel type/port/flags reach the kernel only for TUN (libipvs sends them only then);
- a down real server with inhibit_on_failure stays with weight 0; while the quorum is down and
  a sorry server is configured, the sorry server (weight 1) replaces the alive real servers.

Not modelled (the config models keep no keyword order): keepalived takes sh-port/mh-* only
when lb_algo came earlier in the block, and reads persistence_granularity as IPv4 or IPv6
by the family known when it meets it; here the block's final values count, as if lb_algo and
the address family came first.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from keepalived_py.config.model.lvs import (
    DEFAULT_PERSISTENCE_TIMEOUT,
    Forwarding,
    RealServer,
    VirtualServer,
    VirtualServerGroup,
    VsgRange,
)
from keepalived_py.lvs.diff import Owned
from keepalived_py.lvs.table import (
    FWD_MASQ,
    FWD_METHODS,
    FWD_TUNNEL,
    PROTOCOLS,
    SVC_F_ONEPACKET,
    SVC_F_PERSISTENT,
    SVC_F_SCHED1,
    SVC_F_SCHED2,
    SVC_F_SCHED3,
    SVC_F_SCHED_MH_FALLBACK,
    SVC_F_SCHED_MH_PORT,
    SVC_F_SCHED_SH_FALLBACK,
    SVC_F_SCHED_SH_PORT,
    TUN_FLAGS,
    TUN_GUE,
    TUN_IPIP,
    TUN_TYPES,
    Destination,
    DestKey,
    IPAddress,
    Service,
    ServiceKey,
    Table,
    default_netmask,
)

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig

UINT32 = 0xFFFFFFFF
#: IPVS_WEIGHT_LIMIT
WEIGHT_LIMIT = 0x7FFFFFFF

#: identifies a real server for the live state: (VirtualServer.key, RealServer.key)
RsRef = tuple[tuple[Any, ...], tuple[Any, int]]


def rs_ref(vs: VirtualServer, rs: RealServer) -> RsRef:
    return (vs.key, rs.key)


@dataclass(frozen=True, slots=True)
class LiveState:
    """What the checkers know. Missing entries take keepalived's start-up values."""

    #: real server is up (all its checkers pass)
    alive: Mapping[RsRef, bool] = field(default_factory=dict)
    #: effective weight (configured weight changed by dynamic checkers); clamped to 0..2^31-1
    weights: Mapping[RsRef, int] = field(default_factory=dict)
    #: quorum state of a virtual server, by VirtualServer.key
    quorum_up: Mapping[tuple[Any, ...], bool] = field(default_factory=dict)


def real_weight(weight: int) -> int:
    """keepalived's real_weight(): an effective weight as the kernel may take it."""
    return max(0, min(weight, WEIGHT_LIMIT))


@dataclass(frozen=True, slots=True)
class _Server:
    """A real (or sorry) server after keepalived's inheritance and port fixing."""

    ref: RsRef | None
    address: IPAddress
    port: int
    forwarding: Forwarding
    weight: int
    inhibit: bool
    u_threshold: int = 0
    l_threshold: int = 0

    @property
    def fwd(self) -> int:
        return FWD_METHODS[self.forwarding.method]

    @property
    def key(self) -> tuple[IPAddress, int]:
        return (self.address, self.port)


@dataclass(frozen=True, slots=True)
class ResolvedVs:
    """A virtual server as keepalived's checker holds it after validate_check_config()."""

    vs: VirtualServer
    family: int | None
    protocol: int                      # 0 for fwmark-only services
    flags: int
    persistence: int                   # seconds, 0: none
    netmask: int | None                # persistence netmask for non-group services, None: host
    group: VirtualServerGroup | None
    servers: tuple[_Server, ...]
    sorry: _Server | None
    quorum: int
    hysteresis: int


# ----------------------------------------------------------------------------- resolution
def _groups(config: KeepalivedConfig) -> dict[str, VirtualServerGroup]:
    """Usable groups by name, as keepalived keeps them (empty or v4+v6+familyless fwmark removed)."""
    out: dict[str, VirtualServerGroup] = {}
    for vsg in config.virtual_server_group:
        if not vsg.entries or (vsg.have_ipv4 and vsg.have_ipv6 and vsg.fwmark_no_family):
            continue
        out.setdefault(vsg.name, vsg)
    return out


def _granularity(text: str | None, family: int | None) -> tuple[int | None, int | None]:
    """(netmask, family it implies) for persistence_granularity, or (None, None) if keepalived
    rejects it. IPv4 takes a mask (written as inet_aton reads it), IPv6 a prefix length."""
    if text is None:
        return None, None
    af = family or (4 if "." in text else 6)
    if af == 6:
        if "." in text or not 1 <= int(text) <= 128:
            return None, None
        return int(text), 6
    try:
        mask = ipaddress.IPv4Address(text) if "." in text else ipaddress.IPv4Address(int(text))
    except (ValueError, ipaddress.AddressValueError):
        return None, None
    return int(mask), 4


def _flags(vs: VirtualServer) -> int:
    flags = 0
    if vs.ops:
        flags |= SVC_F_ONEPACKET
    if vs.flag_1:
        flags |= SVC_F_SCHED1
    if vs.flag_2:
        flags |= SVC_F_SCHED2
    if vs.flag_3:
        flags |= SVC_F_SCHED3
    # keepalived takes sh-*/mh-* only for a virtual server using that scheduler
    if vs.scheduler == "sh":
        flags |= (SVC_F_SCHED_SH_PORT if vs.sh_port else 0) | (SVC_F_SCHED_SH_FALLBACK if vs.sh_fallback else 0)
    elif vs.scheduler == "mh":
        flags |= (SVC_F_SCHED_MH_PORT if vs.mh_port else 0) | (SVC_F_SCHED_MH_FALLBACK if vs.mh_fallback else 0)
    return flags


def resolve(vs: VirtualServer, groups: Mapping[str, VirtualServerGroup]) -> ResolvedVs | None:
    """keepalived's view of one virtual_server, or None when keepalived ignores it."""
    target = vs.target
    if target is None:
        return None
    family = target.address.version if target.address is not None else None
    if vs.ip_family is not None:
        wanted = 4 if vs.ip_family == "inet" else 6
        if family is None:
            family = wanted
    netmask, g_family = _granularity(vs.persistence_granularity, family)
    if family is None and g_family is not None:
        family = g_family
    persistence = vs.persistence_timeout or 0
    if netmask is not None and not persistence:
        persistence = DEFAULT_PERSISTENCE_TIMEOUT

    # real servers: a non-tunnelled one must match the family (and sets it if unset)
    kept: list[RealServer] = []
    for rs in vs.real_server:
        if rs.address is None:
            continue
        method = rs.lvs_method or vs.lb_kind
        if method is None or method.method != "TUN":
            if family is None:
                family = rs.address.version
            elif family != rs.address.version:
                continue
        kept.append(rs)
    sorry_addr = vs.sorry_server
    sorry_method = vs.sorry_server_lvs_method or vs.lb_kind
    if sorry_addr is not None and (sorry_method is None or sorry_method.method != "TUN"):
        if family is None:
            family = sorry_addr.address.version
        elif family != sorry_addr.address.version:
            sorry_addr = None

    group = None
    if target.group is not None:
        group = groups.get(target.group)
        if group is None:
            return None
        if group.have_ipv4 and group.have_ipv6 and family is not None:
            return None
        if (group.have_ipv4 and family == 6) or (group.have_ipv6 and family == 4):
            return None
        if group.have_ipv4 != group.have_ipv6:
            family = 4 if group.have_ipv4 else 6
    elif family is None:
        # vs_end_handler: a fwmark service whose servers are all tunnelled
        families = {s.version for s in ([sorry_addr.address] if sorry_addr else []) + [r.address for r in kept]}
        family = families.pop() if len(families) == 1 else 4

    if not kept:
        return None

    flags = _flags(vs)
    fwmark_only = (group is not None and not group.ranges) or (group is None and target.fwmark is not None)
    protocol = PROTOCOLS[vs.protocol.upper()] if vs.protocol else 0
    if not fwmark_only:
        if not protocol:
            protocol = PROTOCOLS["UDP"]
        if protocol != PROTOCOLS["UDP"]:
            flags &= ~SVC_F_ONEPACKET
        if not persistence and group is None and not target.port:
            persistence = DEFAULT_PERSISTENCE_TIMEOUT
    if not persistence and group is not None and any(not r.port for r in group.ranges):
        persistence = DEFAULT_PERSISTENCE_TIMEOUT
    if fwmark_only:
        protocol = 0

    servers = _servers(vs, kept, group, target.fwmark is not None)
    sorry = _sorry(vs, sorry_addr, servers, group, target.fwmark is not None)
    weight_sum = sum(s.weight for s in servers)
    quorum = min(vs.quorum, weight_sum)
    hysteresis = vs.hysteresis if vs.hysteresis < quorum else (quorum - 1) & UINT32
    return ResolvedVs(vs, family, protocol, flags, persistence, netmask if group is None else None, group,
                      servers, sorry, quorum, hysteresis)


def _fix_port(port: int, method: Forwarding, vport: int, group: VirtualServerGroup | None, fwmark: bool) -> int:
    """validate_check_config(): outside a group a NAT server without port takes the virtual
    server's; DR/TUN take the virtual server's port (0 for fwmark)."""
    if group is not None:
        return port
    if method.method == "NAT":
        return port or (0 if fwmark else vport)
    return 0 if fwmark else vport


def _servers(vs: VirtualServer, kept: list[RealServer], group: VirtualServerGroup | None,
             fwmark: bool) -> tuple[_Server, ...]:
    out: list[_Server] = []
    seen: set[tuple[IPAddress, int]] = set()
    for rs in kept:
        if rs.key in seen:  # "real server ... is duplicated - removing second rs"
            continue
        seen.add(rs.key)
        method = rs.lvs_method or vs.forwarding
        weight = rs.weight if rs.weight is not None else vs.weight
        inhibit = rs.inhibit_on_failure if rs.inhibit_on_failure is not None else vs.inhibit_on_failure
        out.append(_Server(rs_ref(vs, rs), rs.address, _fix_port(rs.port or 0, method, vs.port or 0, group, fwmark),
                           method, weight, bool(inhibit), rs.uthreshold or 0, rs.lthreshold or 0))
    return tuple(out)


def _sorry(vs: VirtualServer, addr: Any, servers: tuple[_Server, ...], group: VirtualServerGroup | None,
           fwmark: bool) -> _Server | None:
    if addr is None:
        return None
    method = vs.sorry_server_lvs_method or vs.forwarding
    port = addr.port or 0
    if group is None and method.method != "NAT":
        port = 0 if fwmark else (vs.port or 0)
    inhibit = bool(vs.sorry_server_inhibit)
    twin = next((s for s in servers if s.key == (addr.address, addr.port or 0)), None)
    if twin is not None:
        inhibit = twin.inhibit
    return _Server(None, addr.address, port, method, 1, inhibit)


# ----------------------------------------------------------------------------- live state
def _initially_alive(vs: VirtualServer, rs: RealServer) -> bool:
    """keepalived at start: up unless a checker starts in alpha mode (then down until it passes)."""
    for checker in rs.checkers:
        alpha = getattr(checker, "alpha", None)
        if alpha is None:
            alpha = rs.alpha if rs.alpha is not None else vs.alpha
        if alpha:
            return False
    return True


def _dest_entries(r: ResolvedVs, live: LiveState) -> list[tuple[_Server, int]]:
    """(server, weight) for each destination the virtual server has in the kernel."""
    rs_by_ref = {rs_ref(r.vs, rs): rs for rs in r.vs.real_server if rs.address is not None}
    alive: dict[int, bool] = {}
    weight: dict[int, int] = {}
    for i, s in enumerate(r.servers):
        assert s.ref is not None
        alive[i] = live.alive.get(s.ref, _initially_alive(r.vs, rs_by_ref[s.ref]))
        weight[i] = real_weight(live.weights.get(s.ref, s.weight))
    quorum_up = live.quorum_up.get(r.vs.key)
    if quorum_up is None:
        live_sum = sum(weight[i] for i in alive if alive[i])
        quorum_up = live_sum >= (r.quorum + r.hysteresis) & UINT32
    sorry_active = r.sorry is not None and not quorum_up
    out: dict[tuple[IPAddress, int], tuple[_Server, int]] = {}
    for i, s in enumerate(r.servers):
        if sorry_active:
            if s.inhibit:
                out[s.key] = (s, 0)
        elif alive[i]:
            out[s.key] = (s, weight[i])
        elif s.inhibit:
            out[s.key] = (s, 0)
    if r.sorry is not None:
        if sorry_active:
            out[r.sorry.key] = (r.sorry, 1)
        elif r.sorry.inhibit and r.sorry.key not in out:
            out[r.sorry.key] = (r.sorry, 0)
    return list(out.values())


# ----------------------------------------------------------------------------- services
def _service_keys(r: ResolvedVs) -> list[tuple[ServiceKey, int, VsgRange | None]]:
    """(key, netmask, range entry) of every kernel service the virtual server makes."""
    target = r.vs.target
    assert target is not None
    if r.group is None:
        family = r.family or 4
        netmask = r.netmask if r.netmask is not None else default_netmask(family)
        if target.fwmark is not None:
            return [(ServiceKey(family, fwmark=target.fwmark), netmask, None)]
        return [(ServiceKey(family, r.protocol, target.address, target.port or 0), netmask, None)]
    out = []
    for entry in r.group.ranges:
        for addr in _range_addresses(entry):
            out.append((ServiceKey(addr.version, r.protocol, addr, entry.port or 0),
                        default_netmask(addr.version), entry))
    for fw in r.group.fwmarks:
        family = {"inet": 4, "inet6": 6}.get(fw.family or "", r.family or 4)
        out.append((ServiceKey(family, fwmark=fw.fwmark), default_netmask(family), None))
    return out


def _range_addresses(entry: VsgRange) -> list[IPAddress]:
    """ipvs_group_range_cmd(): IPv4 counts the whole address, IPv6 only its last 16 bits."""
    if entry.family == 4:
        return entry.addresses()
    high = int(entry.start) & ~0xFFFF
    first, last = int(entry.start) & 0xFFFF, int(entry.end) & 0xFFFF
    if last < first:
        return [entry.start]
    return [ipaddress.IPv6Address(high | n) for n in range(first, last + 1)]


def _destination(s: _Server, weight: int, svc_port: int, fwmark: bool) -> Destination:
    if s.fwd == FWD_MASQ:
        port = s.port
    else:
        port = 0 if fwmark else svc_port
    tun_type = tun_port = tun_flags = 0
    if s.fwd == FWD_TUNNEL:
        tun_type = TUN_TYPES[s.forwarding.tunnel_type]
        if tun_type == TUN_GUE:
            tun_port = s.forwarding.tun_port or 0
        if tun_type != TUN_IPIP:
            tun_flags = TUN_FLAGS[s.forwarding.csum or "nocsum"]
    return Destination(DestKey(s.address, port), s.fwd, weight, s.u_threshold, s.l_threshold,
                       tun_type, tun_port, tun_flags)


def vs_table(r: ResolvedVs, live: LiveState = LiveState()) -> list[tuple[Service, list[Destination]]]:
    """The services and destinations of one resolved virtual server."""
    entries = _dest_entries(r, live)
    flags = r.flags | (SVC_F_PERSISTENT if r.persistence else 0)
    pe_name = (r.vs.persistence_engine or "") if r.persistence else ""
    out = []
    for key, netmask, _entry in _service_keys(r):
        svc = Service(key, r.vs.scheduler, flags, r.persistence, netmask, pe_name)
        dests = [_destination(s, w, key.port, bool(key.fwmark)) for s, w in entries]
        out.append((svc, dests))
    return out


def resolve_all(config: KeepalivedConfig) -> list[ResolvedVs]:
    groups = _groups(config)
    return [r for vs in config.virtual_server if (r := resolve(vs, groups)) is not None]


def desired_table(config: KeepalivedConfig, live: LiveState = LiveState()) -> Table:
    """The whole IPVS table keepalived keeps for `config` (a KeepalivedConfig) in state `live`.

    Two virtual servers that make the same kernel service (a group used twice) share it as
    keepalived does: the first one's attributes, and the first destination for each key."""
    services: dict[ServiceKey, Service] = {}
    dests: dict[ServiceKey, dict[DestKey, Destination]] = {}
    for r in resolve_all(config):
        for svc, ds in vs_table(r, live):
            services.setdefault(svc.key, svc)
            bucket = dests.setdefault(svc.key, {})
            for d in ds:
                bucket.setdefault(d.key, d)
    return Table.build((services[k], dests[k].values()) for k in services)


def possible_entries(config: KeepalivedConfig) -> Owned:
    """Every service and destination key `config` can put in the kernel, whatever the checkers
    say: what a reload or a respawned check child may treat as ours (with the old config's
    keys) when it reconciles the table a predecessor left."""
    services: set[ServiceKey] = set()
    dests: set[tuple[ServiceKey, DestKey]] = set()
    for r in resolve_all(config):
        servers = [*r.servers, *([r.sorry] if r.sorry is not None else [])]
        for key, _netmask, _entry in _service_keys(r):
            services.add(key)
            dests |= {(key, _destination(s, 0, key.port, bool(key.fwmark)).key) for s in servers}
    return Owned(frozenset(services), frozenset(dests))

