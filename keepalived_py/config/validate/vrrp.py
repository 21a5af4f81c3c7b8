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

import grp
import ipaddress
import os
import pwd
import shutil
import stat
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.vrrp import (
    PRIO_DEFAULT,
    PRIO_OWNER,
    GarpGroup,
    VrrpInstance,
    VrrpSyncGroup,
    round_advert_int,
)
from keepalived_py.config.model.vrrp_types import NotifyDeleted, TrackRef
from keepalived_py.config.validate import keyword_pos
from keepalived_py.config.validate.global_defs import first_default_user_use
from keepalived_py.config.values import NotifyScript, split_command
from keepalived_py.errors import SourcePos

#: an instance's notify script keywords (a sync group has all but the last)
_NOTIFY_KEYWORDS = ("notify_backup", "notify_master", "notify_fault", "notify_stop", "notify",
                    "notify_master_rx_lower_pri")
ARPHRD_ETHER = 1
ARPHRD_LOOPBACK = 772
IFF_MULTICAST = 0x1000
DEFAULT_MTU = 1500
MCAST4 = ipaddress.ip_address("224.0.0.18")
MCAST6 = ipaddress.ip_address("ff02::12")


# --------------------------------------------------------------------------- host facts
def _sys_net(ifname: str, attr: str) -> str | None:
    try:
        with open(f"/sys/class/net/{ifname}/{attr}") as f:
            return f.read().strip()
    except OSError:
        return None


def _sys_int(ifname: str, attr: str) -> int | None:
    text = _sys_net(ifname, attr)
    try:
        return int(text, 0) if text is not None else None
    except ValueError:
        return None


def _before(a: SourcePos | None, b: SourcePos | None) -> bool:
    """Whether a block at `a` is read before one at `b` (unknown across files: assume so)."""
    if a is None or b is None or a.file != b.file:
        return True
    return a.line < b.line


def _g(config: Any, name: str, default: Any = None) -> Any:
    gd = getattr(config, "global_defs", None)
    value = getattr(gd, name, None) if gd is not None else None
    return default if value is None else value


@dataclass
class _Inst:
    """What keepalived has worked out about one instance while checking it."""

    cfg: VrrpInstance
    ifp: str | None = None
    family: int | None = None
    version: int | None = None
    vips: list[Any] = field(default_factory=list)
    peers: list[Any] = field(default_factory=list)
    saddr: Any = None
    mcast_dst: Any = None
    vmac: bool = False
    vmac_xmit_base: bool = False
    sync: str | None = None
    unicast: bool = False


class _Checker:
    def __init__(self, config: Any, env: Any):
        self.config = config
        self.env = env
        self.diags = env.diagnostics
        self.host = env.interfaces is not None and not _g(config, "dynamic_interfaces", False)
        self.nonexistent = False
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
    def parse_phase(self) -> list[_Inst]:
        cfg = self.config
        self.no_default_user = first_default_user_use(getattr(cfg, "global_defs", None), self.env,
                                                      self._default_user_uses(), self.err)
        self.scripts = self._vrrp_scripts()
        self.files = self._track_files()
        self.processes = self._track_processes()
        self.bfds = [(b.name, b.pos) for b in getattr(cfg, "bfd_instance", ())]
        self._garp_groups(getattr(cfg, "garp_group", ()))
        self.groups = self._sync_groups(getattr(cfg, "vrrp_sync_group", ()))
        insts: list[_Inst] = []
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

    def _vrrp_scripts(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for vs in getattr(self.config, "vrrp_script", ()):
            if not vs.script:
                self.err(f"No script set for vrrp_script {vs.name} - removing", vs.end_pos)
                continue
            if vs.user and self.host and not _user_ok(vs.user):
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
            for keyword in (*_NOTIFY_KEYWORDS, "notify_deleted"):
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
        if _before(max_at, quorum_at):
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
                if target is None or not _before(target.pos, pos):
                    self.err(f"({owner}) {what} {ref.name} not found, ignoring...", where)
                elif ref.name in seen:
                    self.err(f"({owner}) duplicate {attr} {ref.name} - ignoring", where)
                seen.add(ref.name)
        seen = set()
        for ref in block.track_bfd:
            where = ref.pos or pos
            if not any(n == ref.name and _before(p, pos) for n, p in self.bfds):
                self.err(f"({owner}) track bfd {ref.name} not found, ignoring...", where)
            elif ref.name in seen:
                self.err(f"({owner}) duplicate track_bfd {ref.name} - ignoring", where)
            seen.add(ref.name)

    def _family_events(self, st: _Inst) -> None:
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
                self.err(f"WARNING - interface {item.dev} for ip address {_addr_text(item.address)} doesn't exist",
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
        events += [(_line(p), 6, peer, p) for p in vi.unicast_peer]
        events += [(_line(v), 7, vip, v) for v in vi.virtual_ipaddress]
        for _line_no, _order, handler, item in sorted(events, key=lambda e: (e[0], e[1])):
            handler(item)

    def _instance(self, vi: VrrpInstance, vmac_names: dict[str, str]) -> _Inst:
        st = _Inst(vi)
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
            elif self.host and _sys_int(vi.interface, "type") == ARPHRD_LOOPBACK:
                self.err(f"({name}) cannot use a loopback interface ({vi.interface}) for vrrp - ignoring",
                         keyword_pos(vi, "interface"))
            else:
                st.ifp = vi.interface
        if vi.vrf is not None:
            if vi.interface is not None:
                self.err(f"({name}) Cannot specify VRF interface and interface - ignoring", keyword_pos(vi, "vrf"))
            elif not self.if_exists(vi.vrf):
                self.err(f"({name}) WARNING - VRF interface {vi.vrf} doesn't exist", keyword_pos(vi, "vrf"))
        self._track_refs(name, vi, pos)
        self._family_events(st)
        for vip in vi.virtual_ipaddress_excluded:
            if vip.dev is not None and not self.if_exists(vip.dev):
                self.err(f"WARNING - interface {vip.dev} for ip address {_addr_text(vip.address)} doesn't exist",
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

    # ----------------------------------------------------------------- phase 3
    def complete_init(self, insts: list[_Inst]) -> None:
        cfg = self.config
        self._script_security(insts)
        for st in insts:
            vi = st.cfg
            if vi.virtual_router_id is None:
                self.err(f"({vi.name}) the virtual router id must be set")
                return
            if st.ifp is None:
                self.err(f"({vi.name}) Unknown interface!")
                return
        by_name = {st.cfg.name: st for st in insts}
        for sg in self.groups:
            self._sync_group(sg, by_name)
        for st in insts:
            if not self._complete_instance(st):
                return
        if self._vrid_conflicts(insts, cfg):
            return
        self._sync_group_tracking(insts)

    def _sync_group_tracking(self, insts: list[_Inst]) -> None:
        """sync_group_tracking_init(): an interface tracked by a sync group and by a member."""
        for sg in self.groups:
            members = [st for st in insts if st.sync == sg.name]
            for ref in sg.track_interface:
                for st in members:
                    own = ref.name == st.ifp and not st.cfg.dont_track_primary
                    tracked = any(r.name == ref.name and r.name != st.ifp for r in st.cfg.track_interface)
                    if own or tracked:
                        self.err(f"({st.cfg.name}) track_interface {ref.name} is configured on VRRP instance and "
                                 "sync group. Remove vrrp instance or sync group config")

    def _script_security(self, insts: list[_Inst]) -> None:
        if not insts or not self.host:
            return
        is_script = False
        insecure = False
        for vs in self.scripts.values():
            found, bad = _script_state(vs.script)
            if found is None:
                self.err(f"Disabling track script {vs.name} since not found/accessible")
            is_script |= bool(found)
            insecure |= bad
        notifies: list[NotifyScript] = []
        for st in insts:
            vi = st.cfg
            for attr in _NOTIFY_KEYWORDS:
                script = getattr(vi, attr)
                if script is not None:
                    notifies.append(script)
            if isinstance(vi.notify_deleted, NotifyDeleted) and vi.notify_deleted.script is not None:
                notifies.append(vi.notify_deleted.script)
        for sg in self.groups:
            for attr in ("notify_backup", "notify_master", "notify_fault", "notify_stop", "notify"):
                script = getattr(sg, attr)
                if script is not None:
                    notifies.append(script)
        for script in notifies:
            found, bad = _script_state(script.command)
            is_script |= bool(found)
            insecure |= bad
        for gname in ("notify_fifo_script", "vrrp_notify_fifo_script"):
            value = _g(self.config, gname)
            command = getattr(value, "command", value)
            if isinstance(command, str):
                found, bad = _script_state(command)
                is_script |= bool(found)
                insecure |= bad
        if is_script and not _g(self.config, "enable_script_security", False):
            extra = " There are insecure scripts." if insecure else ""
            self.err("SECURITY VIOLATION - scripts are being executed but script_security not enabled." + extra,
                     code=ConfigErr.SECURITY_ERROR)

    def _sync_group(self, sg: VrrpSyncGroup, by_name: dict[str, _Inst]) -> None:
        if not sg.group:
            self.err(f"Sync group {sg.name} has no virtual router(s). removing")
            return
        members = 0
        state = None
        for member in sg.group:
            st = by_name.get(member)
            if st is None:
                self.err(f"Virtual router {member} specified in sync group {sg.name} doesn't exist - ignoring")
                continue
            if st.sync is not None:
                self.err(f"Virtual router {member} cannot exist in more than one sync group; ignoring {sg.name}")
                continue
            st.sync = sg.name
            members += 1
            want = st.cfg.state
            if state == "MASTER" and want == "BACKUP":
                self.err(f"Sync group {sg.name} has some member(s) as address owner and some not as address "
                         "owner. This won't work.")
            if state != "BACKUP":
                state = "MASTER" if want == "MASTER" and st.cfg.priority == PRIO_OWNER else "BACKUP"
        if members == 0:
            self.err(f"Sync group {sg.name}, no matching virtual router found in group declaration - removing")
        elif members == 1:
            self.err(f"Sync group {sg.name} has only 1 virtual router(s) - this probably isn't what you want")

    def _complete_instance(self, st: _Inst) -> bool:
        vi = st.cfg
        n = f"({vi.name})"
        strict = vi.strict_mode if vi.strict_mode is not None else bool(_g(self.config, "vrrp_strict", False))
        if st.family == 6:
            if st.version == 2 and strict:
                self.err(f"{n} cannot use IPv6 with VRRP version 2; setting version 3")
                st.version = 3
            elif not st.version:
                st.version = 3
        if st.family is None:
            st.family = 4
        if not st.version:
            st.version = int(_g(self.config, "vrrp_version", 2))
        allow_no_vips = vi.no_virtual_ipaddress  # newer than 2.2.7 (upstream VRRP_FLAG_ALLOW_NO_VIPS)
        if allow_no_vips and strict:
            self.err(f"{n} no_virtual_ipaddress and strict mode incompatible, clearing no_virtual_ipaddress",
                     code=ConfigErr.WARNING)
            allow_no_vips = False
        if not st.vips and not allow_no_vips:
            if st.version == 3 or strict:
                self.err(f"{n} No VIP specified; at least one is required")
                return False
            self.err(f"{n} No VIP specified; at least one is sensible")
        priority = vi.priority or (PRIO_OWNER if vi.state == "MASTER" else PRIO_DEFAULT)
        owner = priority == PRIO_OWNER
        state = vi.state
        if state is None:
            state = "MASTER" if owner else "BACKUP"
        elif strict and (state == "MASTER") != owner:
            self.err(f"{n} State MASTER must match being address owner")
            state = "MASTER" if owner else "BACKUP"
        auth = vi.authentication
        auth_type = auth.auth_type if auth is not None else None
        if auth_type is not None:
            if strict:
                self.err(f"{n} Strict mode does not support authentication. Ignoring.")
            elif st.version == 3:
                self.err(f"{n} VRRP version 3 does not support authentication. Ignoring.")
            elif not auth.auth_pass:
                self.err(f"{n} Authentication specified but no password given. Ignoring")
            elif st.family == 6 and auth_type == "AH":
                self.err(f"{n} Cannot use AH authentication with IPv6. ignoring")
            elif auth_type == "AH" and state == "MASTER" and not owner:
                self.err(f"{n} Initial state master is incompatible with AH authentication - clearing")
                state = "BACKUP"
        if vi.unicast_configured:
            if st.peers:
                st.unicast = True
            elif not vi.unicast_fault_no_peer:
                self.err(f"{n} A unicast keyword has been specified without any unicast peers. Defaulting to "
                         "multicast. This usage is deprecated - please update your configuration.",
                         code=ConfigErr.DEPRECATED)
        if strict and st.vmac and vi.use_vmac is not None and vi.use_vmac.mac:
            self.err(f"{n}: cannot specify MAC address with strict mode - clearing")
        if self.host and st.ifp is not None:
            if (st.vmac or vi.use_ipvlan is not None) and _sys_int(st.ifp, "type") not in (None, ARPHRD_ETHER):
                self.err(f"{n}: vmacs are only supported on Ethernet type interfaces")
            flags = _sys_int(st.ifp, "flags")
            if flags is not None and not flags & IFF_MULTICAST and not st.unicast:
                self.err(f"{n} interface {st.ifp} does not support multicast, specify unicast peers - disabling")
        if st.family == 6 and not st.unicast and st.vips and strict and not st.vips[0].address.ip.is_link_local:
            self.err(f"{n} the first IPv6 VIP address must be link local")
        if vi.vrf is not None and vi.interface is None and not st.unicast:
            self.err(f"{n} vrf can only be specified with unicast - clearing")
        mtu = (_sys_int(st.ifp, "mtu") if self.host and st.ifp else None) or DEFAULT_MTU
        if st.family == 4:
            hdr = 14 + 20 + 8
            if st.version == 2:
                hdr += 8 + (24 if auth_type == "AH" else 0)
            max_addr = (mtu - hdr) // 4
        else:
            max_addr = (mtu - (14 + 40 + 8)) // 16
        max_addr = min(max_addr, 255)
        if len(st.vips) > max_addr:
            self.err(f"{n} Number of VIPs ({len(st.vips)}) exceeds maximum/space available in packet "
                     f"(max {max_addr} addresses) - excess moved to eVIPs")
        nopreempt = not vi.preempt
        if owner and nopreempt:
            self.err(f"{n} nopreempt is incompatible with priority 255. resetting nopreempt")
            nopreempt = False
        preempt_delay = vi.preempt_delay
        if state == "MASTER":
            if nopreempt:
                self.err(f"{n} Warning - nopreempt will not work with initial state MASTER - clearing")
                nopreempt = False
            if preempt_delay:
                self.err(f"{n} Warning - preempt delay will not work with initial state MASTER - clearing")
                preempt_delay = 0
        if preempt_delay:
            if strict:
                self.err(f"{n} preempt_delay is incompatible with strict mode - resetting")
            if nopreempt:
                self.err(f"{n} preempt_delay is incompatible with nopreempt mode - resetting")
        down_timer = vi.down_timer_adverts or int(_g(self.config, "vrrp_down_timer_adverts", 3))
        if down_timer != 3 and strict:
            self.err(f"{n} down_timer_adverts is incompatible with strict mode - resetting")
        if nopreempt is False and (vi.timer_expired_backup or vi.thread_timer_expired):
            self.err(f"{n} expired_timer_backup requires nopreempt - resetting")
        if vi.accept and not owner and strict and st.version == 2:
            self.err(f"{n} warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting")
        if st.unicast and st.mcast_dst is not None:
            self.err(f"{n} multicast destination specified with unicast - ignoring")
        if strict:
            if vi.garp_lower_prio_repeat:
                self.err(f"{n} Strict mode requires no repeat garps. resetting")
            if vi.garp_lower_prio_delay:
                self.err(f"{n} Strict mode requires no repeat garp delay. resetting")
            if vi.lower_prio_no_advert is False:
                self.err(f"{n} Strict mode requires no lower priority advert. resetting")
            if vi.higher_prio_send_advert:
                self.err(f"{n} strict mode requires higher_prio_send_advert to be clear. resetting")
        if vi.owner_ignore_adverts is True and priority != PRIO_OWNER:
            self.err(f"{n} ignoring owner_ignore_adverts since priority is not {PRIO_OWNER}")
        elif vi.owner_ignore_adverts is False and priority == PRIO_OWNER:
            self.err(f"{n} strict_mode with priority {PRIO_OWNER} requires owner_ignore_adverts")
        _interval, message = round_advert_int(vi.advert_int, st.version)
        if message:
            self.err(f"{n} {message}")
        if st.vmac:
            if strict and st.vmac_xmit_base:
                self.err(f"{n} xmit_base is incompatible with strict mode - resetting")
            if vi.promote_secondaries:
                self.err(f"{n} promote_secondaries is automatically set for vmacs - ignoring")
        elif vi.use_ipvlan is not None and vi.promote_secondaries:
            self.err(f"{n} promote_secondaries is automatically set for vmacs - ignoring")
        if vi.use_ipvlan is not None and st.family == 4 and vi.use_ipvlan.address is None:
            self.err(f"{n} IPv4 ipvlan requires a source ip address to be configured. setting instance to "
                     "fault state")
        for ref in vi.track_interface:
            if ref.name == st.ifp:
                self.err(f"{n} Ignoring track_interface {ref.name} since own interface")
        if st.vmac_xmit_base and not st.vmac:
            self.err(f"{n} vmac_xmit_base is only valid with a vmac")
        for vip in list(st.vips) + list(vi.virtual_ipaddress_excluded):
            if not getattr(vip, "use_vmac", False):
                continue
            same_if = vip.dev is None or vip.dev == vi.interface
            if same_if and st.vmac and vip.address.version == st.family:
                self.err(f"{n} use_vmac specified for VIP/eVIP {_addr_text(vip.address)} and vrrp instance")
            elif (not same_if or vip.address.version != st.family) and vi.use_vmac_addr:
                self.err(f"{n} use_vmac_addr specified and use_vmac specified for VIP/eVIP "
                         f"{_addr_text(vip.address)}")
        if not st.vips and not allow_no_vips:
            if st.version == 3 or st.family == 6 or strict:
                self.err(f"{n} No VIP specified; at least one is required")
                return False
            self.err(f"{n} No VIP specified; at least one is sensible", code=ConfigErr.WARNING)
        self._weights(st, owner)
        return True

    def _weights(self, st: _Inst, owner: bool) -> None:
        vi = st.cfg
        n = f"({vi.name})"
        sgs = {sg.name: sg for sg in self.groups}
        sg = sgs.get(st.sync) if st.sync else None
        sync_no_weight = sg is not None and not sg.tracking_weight
        if not (sync_no_weight or owner):
            return
        why = "SYNC group" if sync_no_weight else "address owner"
        why_ = "SYNC group" if sync_no_weight else "address_owner"
        for ref in vi.track_interface:
            if ref.weight and ref.name != st.ifp:
                self.err(f"{n} ignoring {ref.name} tracked interface {'weight ' if sync_no_weight else ''}"
                         f"due to {why}")
        for ref in vi.track_script:
            target = self.scripts.get(ref.name)
            if target is None:
                continue
            if _ref_weight(ref, target.weight[0]):
                self.err(f"{n} ignoring tracked script {ref.name} with weights due to {why_}")
        for ref in vi.track_file:
            target = self.files.get(ref.name)
            if target is None:
                continue
            weight = _ref_weight(ref, target.weight[0])
            if weight == 1:
                self.err(f"{n} ignoring weight from tracked file {ref.name} due to {why_}. specify weight 0")
            elif weight:
                self.err(f"{n} ignoring tracked file {ref.name} with weight {weight} due to {why_}")

    def _vrid_conflicts(self, insts: list[_Inst], cfg: Any) -> bool:
        had_error = False
        g4 = _g(cfg, "vrrp_mcast_group4", MCAST4)
        g6 = _g(cfg, "vrrp_mcast_group6", MCAST6)
        # only instances of one family and VRID can conflict: pairs within those groups, in
        # the order of the pairwise scan (1,000 instances were half a million pairs)
        same: dict[tuple[int, Any], list[int]] = {}
        for i, a in enumerate(insts):
            same.setdefault((a.family, a.cfg.virtual_router_id), []).append(i)
        for i, a in enumerate(insts):
            for j in same[(a.family, a.cfg.virtual_router_id)]:
                if j <= i:
                    continue
                b = insts[j]
                if a.unicast != b.unicast:
                    continue
                if a.unicast:
                    if a.ifp and b.ifp and a.ifp != b.ifp:
                        continue
                    if a.saddr is None or b.saddr is None or a.saddr != b.saddr:
                        continue
                    if not {p.address for p in a.peers} & {p.address for p in b.peers}:
                        continue
                    self.err(f"({a.cfg.name}) duplicate VRID conflict with {b.cfg.name} VRID "
                             f"{a.cfg.virtual_router_id}")
                    had_error = True
                    continue
                if a.ifp != b.ifp:
                    continue
                default = g4 if a.family == 4 else g6
                if (a.mcast_dst or default) != (b.mcast_dst or default):
                    continue
                self.err(f"{a.cfg.name} and {b.cfg.name} both use VRID {a.cfg.virtual_router_id} with "
                         f"IPv{a.family} on interface {a.ifp}")
                had_error = True
        return had_error


def _line(item: Any) -> int:
    pos = getattr(item, "pos", None)
    return pos.line if pos is not None else 0


def _addr_text(address: Any) -> str:
    """An address as the user most likely wrote it (keepalived echoes the configuration word)."""
    if address.network.prefixlen == address.max_prefixlen:
        return str(address.ip)
    return address.with_prefixlen


def _ref_weight(ref: TrackRef, default: int) -> int:
    return ref.weight if ref.weight is not None else default


def _user_ok(user_group: tuple[str, ...]) -> bool:
    try:
        pwd.getpwnam(user_group[0])
        if len(user_group) > 1:
            grp.getgrnam(user_group[1])
    except KeyError:
        return False
    return True


def _script_state(command: str) -> tuple[bool | None, bool]:
    """(found, insecure) for a script command as check_script_secure() sees it: found is
    True for an existing file, None when the file cannot be found, False for '</file' checks."""
    argv = split_command(command)
    if not argv:
        return None, False
    path = argv[0]
    if path.startswith("<") and path[1:].lstrip(" \t").startswith("/"):
        return False, False
    if "/" not in path:
        resolved = shutil.which(path)
        if resolved is None:
            return None, False
        path = resolved
    try:
        st = os.stat(path)
    except OSError:
        return None, False
    insecure = bool(st.st_uid != 0 or (st.st_mode & stat.S_IWOTH)
                    or (st.st_gid != 0 and st.st_mode & stat.S_IWGRP))
    return True, insecure


def validate(config: Any, env: Any) -> None:
    checker = _Checker(config, env)
    insts = checker.parse_phase()
    checker.flush()
    if checker.nonexistent:
        checker.err("Non-existent interface specified in configuration", code=ConfigErr.BAD_IF)
        return
    checker.complete_init(insts)
