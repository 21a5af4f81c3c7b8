"""keepalived's checks of the VRRP configuration, in the order keepalived 2.2.7 makes them.

1. While parsing (vrrp_parser.c, vrrp_track.c, track_file.c, vrrp_data.c): duplicate names,
   interfaces that do not exist, the address family of an instance, references from
   track_* blocks to vrrp_script / track_file / vrrp_track_process / bfd_instance blocks
   defined *earlier* in the file, and the end-of-block checks.
2. A missing interface stops keepalived there: "Non-existent interface specified in
   configuration" (CONFIG_BAD_IF), nothing else is checked.
3. vrrp_complete_init() (vrrp.c): script security, each instance's minimum configuration
   (VRID, interface), sync groups, vrrp_complete_instance() (version, VIPs, priority and
   state, authentication, strict mode, advert interval ...) and duplicate VRIDs; the first
   failing instance stops the checks.

Messages are keepalived's texts. Host facts (interfaces, their type, flags and MTU, users,
script files) are only looked at when `env.interfaces` is not None.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.vrrp import (
    GarpGroup,
    VrrpInstance,
    VrrpSyncGroup,
)
from keepalived_py.config.model.vrrp_types import NotifyDeleted
from keepalived_py.config.validate import ValidationEnv, keyword_pos
from keepalived_py.config.validate.global_defs import first_default_user_use
from keepalived_py.config.validate.vrrp_complete import CompletePhase
from keepalived_py.config.validate.vrrp_facts import (
    ARPHRD_LOOPBACK,
    NOTIFY_KEYWORDS,
    Inst,
    addr_text,
    gdef,
    line_of,
    read_before,
    user_ok,
)
from keepalived_py.config.values import NotifyScript
from keepalived_py.errors import SourcePos

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig


class Checker(CompletePhase):
    def __init__(self, config: KeepalivedConfig, env: ValidationEnv):
        self.config = config
        self.env = env
        self.diags = env.diagnostics
        self.host = env.interfaces is not None and not gdef(config, "dynamic_interfaces", False)
        self.nonexistent = False
        #: /sys/class/net attributes read in this check (1,000 instances share a few interfaces)
        self.host_ints: dict[tuple[str, str], int | None] = {}
        #: keepalived cannot set the default script user: scripts without their own user go
        self.no_default_user = False
        #: parse-time messages, put in file order by flush()
        self.pending: list[tuple[ConfigErr, str, SourcePos | None]] | None = []

    # ----------------------------------------------------------------- helpers
    def err(self, message: str, pos: SourcePos | None = None, code: ConfigErr = ConfigErr.GENERAL_ERROR) -> None:
        if self.pending is not None:
            self.pending.append((code, message, pos))
        else:
            self.diags.add(code, message, pos)

    def flush(self) -> None:
        """The parse-time messages in file order, as keepalived reports them while reading (only
        when they all come from one file: lines of different files do not compare)."""
        pending, self.pending = self.pending or [], None
        files = {p.file for _c, _m, p in pending if p is not None}
        if len(files) == 1:
            pending.sort(key=lambda item: item[2].line if item[2] is not None else float("inf"))
        for code, message, pos in pending:
            self.diags.add(code, message, pos)

    def if_exists(self, name: str) -> bool:
        if not self.host:
            return True
        if name in self.env.interfaces:
            return True
        self.nonexistent = True
        return False

    # ----------------------------------------------------------------- phase 1
    def parse_phase(self) -> list[Inst]:
        cfg = self.config
        self.no_default_user = first_default_user_use(getattr(cfg, "global_defs", None), self.env,
                                                      self._default_user_uses(), self.err)
        self.scripts = self._vrrp_scripts()
        self.files = self._track_files()
        self.processes = self._track_processes()
        self.bfds = self._bfds(getattr(cfg, "bfd_instance", ()))
        self._garp_groups(getattr(cfg, "garp_group", ()))
        self.groups = self._sync_groups(getattr(cfg, "vrrp_sync_group", ()))
        insts: list[Inst] = []
        names: set[str] = set()
        vmac_names: dict[str, str] = {}
        for vi in getattr(cfg, "vrrp_instance", ()):
            if not vi.name:
                self.err("vrrp_instance must have a name", vi.pos)
                continue
            if vi.name in names:
                self.err(f"vrrp instance {vi.name} already defined", vi.pos)
                continue
            names.add(vi.name)
            insts.append(self._instance(vi, vmac_names))
        return insts

    def _bfds(self, blocks: Iterable[Any]) -> list[tuple[str, SourcePos | None]]:
        """bfd_instance blocks as keepalived's vrrp process reads them (alloc_vrrp_tracked_bfd,
        bfd_vrrp_end_handler): a name of 32 characters or more, or one already kept, is
        refused; a block for the checker only is dropped silently. track_bfd finds the rest."""
        kept: list[tuple[str, SourcePos | None]] = []
        for b in blocks:
            if len(b.name) >= 32:
                self.err(f"BFD name {b.name} too long", b.pos)
            elif any(n == b.name for n, _p in kept):
                self.err(f"BFD {b.name} already specified", b.pos)
            elif b.notify_vrrp:
                kept.append((b.name, b.pos))
        return kept

    def _vrrp_scripts(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for vs in getattr(self.config, "vrrp_script", ()):
            if not vs.script:
                self.err(f"No script set for vrrp_script {vs.name} - removing", vs.end_pos)
                continue
            if vs.user and self.host and not user_ok(vs.user):
                self.err(f"Unable to set uid/gid for script {vs.script}", vs.pos)
                continue
            if not vs.user and self.no_default_user:
                self.err(f"Unable to set default user for vrrp script {vs.name} - removing", vs.end_pos)
                continue
            found.setdefault(vs.name, vs)
        return found

    def _default_user_uses(self) -> list[SourcePos | None]:
        """Where the vrrp configuration needs the default script user: each notify script
        without its own user (its keyword's line) and each vrrp_script without one (its '}')."""
        cfg = self.config
        uses = [vs.end_pos for vs in getattr(cfg, "vrrp_script", ()) if vs.script and not vs.user]
        for block in (*getattr(cfg, "vrrp_instance", ()), *getattr(cfg, "vrrp_sync_group", ())):
            for keyword in (*NOTIFY_KEYWORDS, "notify_deleted"):
                script = getattr(block, keyword, None)
                script = getattr(script, "script", None) if isinstance(script, NotifyDeleted) else script
                if isinstance(script, NotifyScript) and script.user is None:
                    uses.append(keyword_pos(block, keyword))
        return uses

    def _track_files(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for tf in getattr(self.config, "vrrp_track_file", ()):
            if not tf.file:
                self.err(f"No file set for track_file {tf.name} - ignoring", tf.end_pos)
                continue
            found.setdefault(tf.name, tf)
        return found

    def _track_processes(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for tp in getattr(self.config, "vrrp_track_process", ()):
            self._quorum_order(tp)
            if not tp.process:
                self.err(f"track process '{tp.name}' process name not specified", tp.end_pos)
                continue
            found.setdefault(tp.name, tp)
        return found

    def _quorum_order(self, tp: Any) -> None:
        """keepalived compares quorum and quorum_max in the handler of whichever comes second."""
        where = tp.kw_pos or {}
        quorum_at, max_at = where.get("quorum"), where.get("quorum_max")
        if quorum_at is None or max_at is None or tp.quorum_max is None:
            return
        if read_before(max_at, quorum_at):
            if tp.quorum > tp.quorum_max:
                self.err("Quorum is greater than quorum_max - ignoring", quorum_at)
        elif (tp.quorum_max or tp.quorum > 1) and tp.quorum_max < tp.quorum:
            self.err("quorum_max is less than quorum - ignoring", max_at)

    def _garp_groups(self, groups: Iterable[GarpGroup]) -> None:
        used: set[str] = set()
        aggregates = 0
        for gg in groups:
            index = 0
            if gg.interfaces:
                aggregates += 1
                index = aggregates
            # `interface X` is checked on its line, an `interfaces { }` block once read whole
            interfaces_end = (gg.kw_end or {}).get("interfaces")
            if interfaces_end is not None and not gg.interfaces:
                self.err("Warning - empty garp_group interfaces block", interfaces_end)
            named = [(gg.interface, keyword_pos(gg, "interface"))] if gg.interface else []
            for name, where in named + [(name, interfaces_end) for name in gg.interfaces]:
                if not self.if_exists(name):
                    self.err(f"WARNING - interface {name} specified for garp_group doesn't exist", where)
                    continue
                if name in used:
                    self.err(f"garp_group already specified for {name} - ignoring", where)
                    continue
                used.add(name)
            for value, what in ((gg.garp_interval, "garp_interval"), (gg.gna_interval, "gna_interval")):
                if value is not None and value >= 1:
                    self.err(f"The {what} is very large - {value:g} seconds", gg.pos, ConfigErr.OK)
            if gg.garp_interval is None and gg.gna_interval is None:
                self.err(f"garp group {index} does not have any delay set - removing", gg.end_pos)

    def _sync_groups(self, groups: Iterable[VrrpSyncGroup]) -> list[VrrpSyncGroup]:
        kept: list[VrrpSyncGroup] = []
        names: set[str] = set()
        for sg in groups:
            if not sg.name:
                self.err("vrrp_sync_group must have a name - skipping", sg.pos)
                continue
            if sg.name in names:
                self.err(f"vrrp sync group {sg.name} already defined", sg.pos)
                continue
            names.add(sg.name)
            group_end = (sg.kw_end or {}).get("group")
            if group_end is not None and not sg.group:
                self.err(f"Warning - sync group {sg.name} has empty group block", group_end)
            self._track_refs(sg.name, sg, sg.pos)
            kept.append(sg)
        return kept

    def _track_refs(self, owner: str, block: Any, pos: SourcePos | None) -> None:
        """track_* entries: interfaces must exist, other objects must be defined earlier."""
        seen: set[str] = set()
        for ref in block.track_interface:
            where = ref.pos or pos
            if not self.if_exists(ref.name):
                self.err(f"({owner}) tracked interface {ref.name} doesn't exist", where)
            elif ref.name in seen:
                self.err(f"({owner}) duplicate track_interface {ref.name} - ignoring", where)
            seen.add(ref.name)
        for attr, table, what in (("track_script", self.scripts, "track script"),
                                  ("track_file", self.files, "track file"),
                                  ("track_process", self.processes, "track process")):
            seen = set()
            for ref in getattr(block, attr):
                where = ref.pos or pos
                target = table.get(ref.name)
                if target is None or not read_before(target.pos, pos):
                    self.err(f"({owner}) {what} {ref.name} not found, ignoring...", where)
                elif ref.name in seen:
                    self.err(f"({owner}) duplicate {attr} {ref.name} - ignoring", where)
                seen.add(ref.name)
        seen = set()
        for ref in block.track_bfd:
            where = ref.pos or pos
            if not any(n == ref.name and read_before(p, pos) for n, p in self.bfds):
                self.err(f"({owner}) track bfd {ref.name} not found, ignoring...", where)
            elif ref.name in seen:
                self.err(f"({owner}) duplicate track_bfd {ref.name} - ignoring", where)
            seen.add(ref.name)

    def _family_events(self, st: Inst) -> None:
        """The keywords that decide an instance's address family, in file order: keepalived takes
        the family from the first one and rejects the others that disagree. Scalar keywords are
        ordered by their lines when the model records them, else before the address blocks."""
        vi = st.cfg
        name = vi.name
        pos = vi.pos

        def at(keyword: str) -> int:
            found = keyword_pos(vi, keyword)
            return found.line if found is not None and found is not pos else 0

        def native(_item: Any) -> None:
            if st.family == 4:
                self.err(f"({name}) Cannot specify native_ipv6 with IPv4 addresses", keyword_pos(vi, "native_ipv6"))
                return
            st.family, st.version = 6, 3

        def ipvlan(addr: Any) -> None:
            if st.family is None or st.family == addr.version:
                st.family = addr.version
                if st.saddr is None:
                    st.saddr = addr.ip
            else:
                self.err(f"({name}) ipvlan address[{addr}] MUST match vrrp instance family !!! Skipping...",
                         keyword_pos(vi, "use_ipvlan"))

        def source(item: tuple[str, Any]) -> None:
            keyword, addr = item
            if st.family is None or st.family == addr.version:
                st.family = addr.version
                st.saddr = addr
            else:
                self.err(f"Configuration error: VRRP instance[{name}] and src address[{addr}] MUST be of the "
                         "same family !!! Skipping...", keyword_pos(vi, keyword))

        def mcast_dst(addr: Any) -> None:
            if st.family is None or st.family == addr.version:
                st.family = addr.version
                st.mcast_dst = addr
            else:
                self.err(f"({name}) mcast dest address {addr} MUST match VRRP instance family. Skipping...",
                         keyword_pos(vi, "mcast_dst_ip"))

        def version(value: int) -> None:
            if (st.version is not None and st.version != value) or (value == 2 and st.family == 6):
                self.err(f"({name}) vrrp_version {value} conflicts with configured or deduced version "
                         f"{st.version or 0}; ignoring.", keyword_pos(vi, "version"))
            else:
                st.version = value

        def peer(item: Any) -> None:
            if st.family is None or st.family == item.address.version:
                st.family = item.address.version
                st.peers.append(item)
            else:
                self.err(f"Configuration error: VRRP instance[{name}] and unicast peer address[{item.address}] "
                         "MUST be of the same family !!! Skipping...", item.pos or pos)

        def vip(item: Any) -> None:
            if item.dev is not None and not self.if_exists(item.dev):
                self.err(f"WARNING - interface {item.dev} for ip address {addr_text(item.address)} doesn't exist",
                         item.pos or pos)
                return
            if st.family is None or st.family == item.address.version:
                st.family = item.address.version
                st.vips.append(item)
            else:
                self.err(f"({name}): address family must match VRRP instance [{item.address}] - ignoring",
                         item.pos or pos)

        events: list[tuple[int, int, Any, Any]] = []
        if vi.native_ipv6:
            events.append((at("native_ipv6"), 0, native, None))
        if vi.use_ipvlan is not None and vi.use_ipvlan.address is not None:
            events.append((at("use_ipvlan"), 1, ipvlan, vi.use_ipvlan.address))
        for order, keyword in enumerate(("mcast_src_ip", "unicast_src_ip"), 2):
            if getattr(vi, keyword) is not None:
                events.append((at(keyword), order, source, (keyword, getattr(vi, keyword))))
        if vi.mcast_dst_ip is not None:
            events.append((at("mcast_dst_ip"), 4, mcast_dst, vi.mcast_dst_ip))
        if vi.version is not None:
            events.append((at("version"), 5, version, vi.version))
        events += [(line_of(p), 6, peer, p) for p in vi.unicast_peer]
        events += [(line_of(v), 7, vip, v) for v in vi.virtual_ipaddress]
        for _line_no, _order, handler, item in sorted(events, key=lambda e: (e[0], e[1])):
            handler(item)

    def _instance(self, vi: VrrpInstance, vmac_names: dict[str, str]) -> Inst:
        st = Inst(vi)
        name = vi.name
        pos = vi.pos
        if vi.use_vmac is not None:
            st.vmac = True
            ifn = vi.use_vmac.ifname
            if ifn is not None and ifn in vmac_names:
                self.err(f"({name}) VRRP instance {vmac_names[ifn]} is already using {ifn} - ignoring name",
                         keyword_pos(vi, "use_vmac"))
            elif ifn is not None:
                vmac_names[ifn] = name
        if vi.interface is not None:
            if not self.if_exists(vi.interface):
                self.err(f"WARNING - interface {vi.interface} for vrrp_instance {name} doesn't exist",
                         keyword_pos(vi, "interface"))
            elif self.host and self.sys_int(vi.interface, "type") == ARPHRD_LOOPBACK:
                self.err(f"({name}) cannot use a loopback interface ({vi.interface}) for vrrp - ignoring",
                         keyword_pos(vi, "interface"))
            else:
                st.ifp = vi.interface
        if vi.vrf is not None:
            # the handlers run in line order: only an interface line before the vrf one that
            # keepalived kept (it exists, not loopback) makes vrf an error here
            vrf_pos = keyword_pos(vi, "vrf")
            if_pos = keyword_pos(vi, "interface")
            if st.ifp is not None and if_pos is not None and vrf_pos is not None and if_pos.line < vrf_pos.line:
                self.err(f"({name}) Cannot specify VRF interface and interface - ignoring", vrf_pos)
            elif not self.if_exists(vi.vrf):
                self.err(f"({name}) WARNING - VRF interface {vi.vrf} doesn't exist", vrf_pos)
            elif self.host and self.sys_int(vi.vrf, "type") == ARPHRD_LOOPBACK:
                self.err(f"({name}) cannot use a loopback interface ({vi.vrf}) for VRF - ignoring", vrf_pos)
            else:
                st.vrf = vi.vrf
        self._track_refs(name, vi, pos)
        self._family_events(st)
        for vip in vi.virtual_ipaddress_excluded:
            if vip.dev is not None and not self.if_exists(vip.dev):
                self.err(f"WARNING - interface {vip.dev} for ip address {addr_text(vip.address)} doesn't exist",
                         vip.pos or pos)
        for route in vi.virtual_routes:
            devs = [getattr(route, "dev", None)] + [getattr(nh, "dev", None) for nh in getattr(route, "nexthops", ())]
            for dev in devs:
                if dev is not None and not self.if_exists(dev):
                    self.err(f"WARNING - interface {dev} for VROUTE nexthop doesn't exist",
                             getattr(route, "pos", None) or pos)
        for rule in vi.virtual_rules:
            for dev in (getattr(rule, "iif", None), getattr(rule, "oif", None)):
                if dev is not None and not self.if_exists(dev):
                    self.err(f"WARNING - interface {dev} for rule doesn't exist", getattr(rule, "pos", None) or pos)
        # vrrp_end_handler: at the instance's closing '}'
        pos = vi.end_pos
        st.vmac_xmit_base = vi.vmac_xmit_base
        if vi.unicast_configured and (st.vmac or vi.use_ipvlan is not None):
            if st.ifp is None:
                self.err(f"({name}): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac", pos)
                st.vmac = False
            elif not st.vmac_xmit_base:
                self.err(f"({name}) unicast with use_vmac requires vmac_xmit_base - setting", pos)
                st.vmac_xmit_base = True
        if not vi.unicast_peer and vi.unicast_ttl is not None:
            self.err(f"({name}): Cannot use unicast_ttl without unicast peers - resetting", pos)
        return st

def validate(config: KeepalivedConfig, env: ValidationEnv) -> None:
    checker = Checker(config, env)
    insts = checker.parse_phase()
    checker.flush()
    if checker.nonexistent:
        checker.err("Non-existent interface specified in configuration", code=ConfigErr.BAD_IF)
        return
    checker.complete_init(insts)
