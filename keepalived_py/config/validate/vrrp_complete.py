"""Phase 3 of the VRRP configuration checks: keepalived 2.2.7's vrrp_complete_init() (vrrp.c),
a mixin of validate/vrrp.Checker: script security, each instance's minimum configuration,
sync groups, vrrp_complete_instance() (version, VIPs, priority and state, authentication,
strict mode, advert interval ...), and duplicate VRIDs; the first failing instance stops
the checks, as in keepalived. Messages are keepalived's texts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.vrrp import (
    PRIO_DEFAULT,
    PRIO_OWNER,
    VrrpSyncGroup,
    round_advert_int,
)
from keepalived_py.config.model.vrrp_types import NotifyDeleted
from keepalived_py.config.validate.vrrp_facts import (
    ARPHRD_ETHER,
    DEFAULT_MTU,
    IFF_MULTICAST,
    MCAST4,
    MCAST6,
    NOTIFY_KEYWORDS,
    Inst,
    addr_text,
    gdef,
    read_before,
    ref_weight,
    script_state,
    sys_int,
)
from keepalived_py.config.values import NotifyScript

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig


class CompletePhase:
    """Uses the checker's config, env, err(), groups and the parse phase's results."""

    host_ints: dict[tuple[str, str], int | None]

    def sys_int(self, ifname: str, attr: str) -> int | None:
        """sys_int() read once per interface and attribute in one check (many instances on a
        few interfaces read the same files)."""
        key = (ifname, attr)
        try:
            return self.host_ints[key]
        except KeyError:
            value = self.host_ints[key] = sys_int(ifname, attr)
            return value

    def complete_init(self, insts: list[Inst]) -> None:
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

    def _sync_group_tracking(self, insts: list[Inst]) -> None:
        """sync_group_tracking_init(): a group with an address owner member clears its objects'
        weights; an interface tracked by a sync group and by a member."""
        for sg in self.groups:
            members = [st for st in insts if st.sync == sg.name]
            owner = any(st.cfg.effective_priority == PRIO_OWNER for st in members)
            # the plan clears these weights (vrrpd/plan.py sync_groups)
            for kind, name, _weight in (self._group_objects(sg) if owner else ()):
                self._owner_weight(sg.name, kind, name)
            for ref in sg.track_interface:
                if owner and ref.weight:
                    self._owner_weight(sg.name, "interface", ref.name)
                for st in members:
                    own = ref.name == st.ifp and not st.cfg.dont_track_primary
                    tracked = any(r.name == ref.name and r.name != st.ifp for r in st.cfg.track_interface)
                    if own or tracked:
                        self.err(f"({st.cfg.name}) track_interface {ref.name} is configured on VRRP instance and "
                                 "sync group. Remove vrrp instance or sync group config")

    def _owner_weight(self, group: str, kind: str, name: str) -> None:
        words = "clearing weight" if kind in ("script", "interface") else "setting weight 0"
        self.err(f"({group}) Cannot have weighted track {kind} '{name}' with member having priority "
                 f"{PRIO_OWNER} - {words}")

    def _group_objects(self, sg: VrrpSyncGroup) -> list[tuple[str, str, int]]:
        """A group's weighted script, file, process and bfd lines that keepalived keeps."""
        out: list[tuple[str, str, int]] = []
        for kind, refs, table in (("script", sg.track_script, self.scripts), ("file", sg.track_file, self.files),
                                  ("process", sg.track_process, self.processes)):
            seen: set[str] = set()
            for ref in refs:
                target = table.get(ref.name)
                if target is not None and read_before(target.pos, sg.pos) and ref.name not in seen:
                    out.append((kind, ref.name, ref_weight(ref, target.weight[0])))
                seen.add(ref.name)
        seen = set()
        blocks = {b.name: b for b in reversed(list(getattr(self.config, "bfd_instance", ())))}
        for ref in sg.track_bfd:
            kept = any(n == ref.name and read_before(p, sg.pos) for n, p in self.bfds)
            if kept and ref.name not in seen and ref.name in blocks:
                out.append(("bfd", ref.name, ref_weight(ref, blocks[ref.name].weight[0])))
            seen.add(ref.name)
        return [o for o in out if o[2]]

    def _script_security(self, insts: list[Inst]) -> None:
        if not insts or not self.host:
            return
        is_script = False
        insecure = False
        for vs in self.scripts.values():
            found, bad = script_state(vs.script)
            if found is None:
                self.err(f"Disabling track script {vs.name} since not found/accessible")
            is_script |= bool(found)
            insecure |= bad
        notifies: list[NotifyScript] = []
        for st in insts:
            vi = st.cfg
            for attr in NOTIFY_KEYWORDS:
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
            found, bad = script_state(script.command)
            is_script |= bool(found)
            insecure |= bad
        for gname in ("notify_fifo_script", "vrrp_notify_fifo_script"):
            value = gdef(self.config, gname)
            command = getattr(value, "command", value)
            if isinstance(command, str):
                found, bad = script_state(command)
                is_script |= bool(found)
                insecure |= bad
        if is_script and not gdef(self.config, "enable_script_security", False):
            extra = " There are insecure scripts." if insecure else ""
            self.err("SECURITY VIOLATION - scripts are being executed but script_security not enabled." + extra,
                     code=ConfigErr.SECURITY_ERROR)

    def _sync_group(self, sg: VrrpSyncGroup, by_name: dict[str, Inst]) -> None:
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

    def _complete_instance(self, st: Inst) -> bool:
        vi = st.cfg
        n = f"({vi.name})"
        strict = vi.strict_mode if vi.strict_mode is not None else bool(gdef(self.config, "vrrp_strict", False))
        if st.family == 6:
            if st.version == 2 and strict:
                self.err(f"{n} cannot use IPv6 with VRRP version 2; setting version 3")
                st.version = 3
            elif not st.version:
                st.version = 3
        if st.family is None:
            st.family = 4
        if not st.version:
            st.version = int(gdef(self.config, "vrrp_version", 2))
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
            if (st.vmac or vi.use_ipvlan is not None) and self.sys_int(st.ifp, "type") not in (None, ARPHRD_ETHER):
                self.err(f"{n}: vmacs are only supported on Ethernet type interfaces")
            flags = self.sys_int(st.ifp, "flags")
            if flags is not None and not flags & IFF_MULTICAST and not st.unicast:
                self.err(f"{n} interface {st.ifp} does not support multicast, specify unicast peers - disabling")
        if st.family == 6 and not st.unicast and st.vips and strict and not st.vips[0].address.ip.is_link_local:
            self.err(f"{n} the first IPv6 VIP address must be link local")
        if st.vrf is not None and (st.ifp is not None or not st.unicast):
            self.err(f"{n} vrf can only be specified with{'out interface' if st.ifp else ' unicast'} - clearing")
            st.vrf = None
        mtu = (self.sys_int(st.ifp, "mtu") if self.host and st.ifp else None) or DEFAULT_MTU
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
        down_timer = vi.down_timer_adverts or int(gdef(self.config, "vrrp_down_timer_adverts", 3))
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
                self.err(f"{n} use_vmac specified for VIP/eVIP {addr_text(vip.address)} and vrrp instance")
            elif (not same_if or vip.address.version != st.family) and vi.use_vmac_addr:
                self.err(f"{n} use_vmac_addr specified and use_vmac specified for VIP/eVIP "
                         f"{addr_text(vip.address)}")
        if not st.vips and not allow_no_vips:
            if st.version == 3 or st.family == 6 or strict:
                self.err(f"{n} No VIP specified; at least one is required")
                return False
            self.err(f"{n} No VIP specified; at least one is sensible", code=ConfigErr.WARNING)
        self._weights(st, owner)
        return True

    def _weights(self, st: Inst, owner: bool) -> None:
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
            if ref_weight(ref, target.weight[0]):
                self.err(f"{n} ignoring tracked script {ref.name} with weights due to {why_}")
        for ref in vi.track_file:
            target = self.files.get(ref.name)
            if target is None:
                continue
            weight = ref_weight(ref, target.weight[0])
            if weight == 1:
                self.err(f"{n} ignoring weight from tracked file {ref.name} due to {why_}. specify weight 0")
            elif weight:
                self.err(f"{n} ignoring tracked file {ref.name} with weight {weight} due to {why_}")

    def _vrid_conflicts(self, insts: list[Inst], cfg: KeepalivedConfig) -> bool:
        had_error = False
        g4 = gdef(cfg, "vrrp_mcast_group4", MCAST4)
        g6 = gdef(cfg, "vrrp_mcast_group6", MCAST6)
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
