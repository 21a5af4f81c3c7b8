"""The nftables filtering keepalived installs for `no_accept` / `vrrp_strict`, as keepalived 2.2.7 lays it out.

Why: a MASTER that must not accept traffic for its virtual addresses (RFC 5798 Accept_Mode
false: `no_accept`, or a non-owner under `vrrp_strict` with VRRPv2) drops packets to and from
them. keepalived (keepalived/vrrp/vrrp_nftables.c, vrrp_firewall.c) does that with one table
per family (`nftables [NAME]`, default "keepalived"; `vrrp_iptables` also means nftables in the
Debian build), base chains `in`/`out` at `nftables_priority` (default -1), the set `vips` and,
for IPv6, the `neighbor-discovery` constant set, the link-local chains `in_link_local` /
`out_link_local` and the sets `vips_link_local` (address . ifindex) and `vips_link_local_name`
(address . ifname: link-local VIPs on the instance's own interface with `dont_track_primary`,
unless `nftables_ifindex`). `nftables_counters` adds a counter to every rule.

When (vrrp.c): entering MASTER adds the instance's VIPs and eVIPs to the sets, leaving MASTER
(or stopping) removes them; the address owner and instances that accept are never filtered.
Tables, chains and sets are created the first time a family (or a link-local kind) is needed
and then stay, empty, until stop, which deletes the tables. Before any MASTER there is no table.

Layout of this package part:
- nft.py (here): config -> settings and set members (`settings_from_config`,
  `filtered_addresses`, `vmac_members`), and `NftFirewall`, the API the vrrp child calls,
  over an injected `NftBackend` port;
- nft_ruleset.py: the tables as data (`Layout` of parts built so far, `desired`), pure;
- nft_reconcile.py: nft's JSON listing -> Ruleset, actual vs desired -> one transaction, pure;
- nft_libnftables.py: the NftBackend adapter (libnftables' JSON API through ctypes).

How the vrrp child calls it (vrrpd/daemon.py makes it the first time a config needs one;
vrrpd/firewall.py FirewallFollower queues the calls with the address work, vrrpd/ops.py):
    fw = NftFirewall(LibNftables())          # in the vrrp child, after fork
    fw.start(config)                         # after the VMACs exist; adopts a predecessor's table
    fw.instance_state(iname, "MASTER")       # on every state change, and once per instance
    fw.instance_state(iname, "BACKUP")       #   with its initial state (FAULT/BACKUP/MASTER)
    fw.reload(new_config)                    # after a validated reload (and VMAC changes)
    fw.stop()                                # at shutdown: deletes our tables, nothing else
Call instance_state(MASTER) before adding the VIPs and instance_state(<not MASTER>) after
removing them, as keepalived does. Each call is one netlink transaction through libnftables
(a few ms; blocking): run it in a thread (asyncio.to_thread) from the event loop. nft
resolves interface names when a call is made, so the interfaces (VMACs, `dev` of link-local
VIPs) must exist; a failure raises nft_libnftables.NftError and changes nothing.
A respawned child's start() keeps the elements of instances whose addresses are all present
(presumed MASTER, so their VIPs stay protected) until instance_state says otherwise.
`notes` collects what keepalived would log (a table name change at reload).

VMACs (`use_vmac`): keepalived also turns nftables on for them and, when it creates the
macvlan, adds it to `vmac_map` (and `vmac_set` for ip6) with rules that send IGMP/MLD reports
through the base interface and drop router solicitations (not with `disable_local_igmp` for
an IPv4 instance); `vmac_members` gives those elements, present whatever the state.

Not done: the iptables/ipset back-end (the Debian build has none; `vrrp_iptables` means
nftables there, as here).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Protocol

from keepalived_py.net.nft_reconcile import layout_of, parse_listing, plan
from keepalived_py.net.nft_ruleset import (
    FAMILIES,
    LL_INDEX,
    LL_NAME,
    VIPS,
    VMAC_MAP,
    VMAC_SET,
    FirewallSettings,
    Json,
    Layout,
    Member,
    Ruleset,
    desired,
)
from keepalived_py.net.vmac import vmac_name

if TYPE_CHECKING:
    from keepalived_py.config.model.global_defs import GlobalDefs
    from keepalived_py.config.model.root import KeepalivedConfig
    from keepalived_py.config.model.vrrp import VrrpInstance

DEFAULT_TABLE = "keepalived"

__all__ = ["FirewallSettings", "Layout", "Member", "NftBackend", "NftFirewall", "desired",
           "filtered_addresses", "layout_of", "parse_listing", "plan", "settings_from_config",
           "vmac_members"]


# ---------------------------------------------------------------- config -> what to filter

def _instances(config: KeepalivedConfig) -> tuple[VrrpInstance, ...]:
    return tuple(i for i in getattr(config, "vrrp_instance", ()) if i.interface and i.virtual_router_id)


def _globals(config: KeepalivedConfig) -> GlobalDefs:
    g = getattr(config, "global_defs", None)
    if g is None:
        from keepalived_py.config.model.global_defs import GlobalDefs
        g = GlobalDefs()
    return g


def _filters(inst: VrrpInstance, g: GlobalDefs) -> bool:
    """keepalived's vrrp_handle_accept_mode(): neither the owner nor an accepting instance."""
    return not inst.address_owner and not inst.effective_accept(g.vrrp_strict, g.vrrp_version)


def _vmac(inst: VrrpInstance, g: GlobalDefs) -> str | None:
    if inst.use_vmac is None:
        return None
    return vmac_name(inst.virtual_router_id, inst.family, inst.use_vmac.ifname, g.vmac_prefix)


def settings_from_config(config: KeepalivedConfig) -> FirewallSettings | None:
    """None when keepalived would not use nftables for VRRP: no `nftables`/`vrrp_iptables`
    and no instance needing it (vrrp.c turns it on for no_accept/strict and use_vmac)."""
    g = _globals(config)
    configured = g.nftables is not None or g.vrrp_iptables is not None
    # vrrp_complete_instance() looks at accept alone (an owner with no_accept turns it on too)
    needed = any(not i.effective_accept(g.vrrp_strict, g.vrrp_version) or i.use_vmac is not None
                 for i in _instances(config))
    if not configured and not needed:
        return None
    return FirewallSettings(table=g.nftables or DEFAULT_TABLE, priority=g.nftables_priority,
                            counters=g.nftables_counters, ifindex=g.nftables_ifindex)


def filtered_addresses(config: KeepalivedConfig, settings: FirewallSettings) -> dict[str, tuple[Member, ...]]:
    """Per instance name, the set elements its MASTER state adds (VIPs then eVIPs, in config
    order); instances that accept map to ()."""
    g = _globals(config)
    out: dict[str, tuple[Member, ...]] = {}
    for inst in _instances(config):
        if not _filters(inst, g):
            out.setdefault(inst.name, ())
            continue
        own_if = _vmac(inst, g) or inst.interface  # VIPs without dev live on the VMAC
        addrs: list[Member] = []
        for va in (*inst.virtual_ipaddress, *inst.virtual_ipaddress_excluded):
            ip = va.address.ip
            if ip.version == 4:
                addrs.append(Member("ip", VIPS, str(ip)))
                continue
            if not ip.is_link_local:
                addrs.append(Member("ip6", VIPS, str(ip)))
                continue
            dev = va.dev or own_if
            # vrrp_nftables.c nft_update_ipv6_address(): by name only for dont_track_primary,
            # on the instance's interface (or no_track), and without nftables_ifindex
            by_name = not settings.ifindex and inst.dont_track_primary and (dev == own_if or va.no_track)
            addrs.append(Member("ip6", LL_NAME if by_name else LL_INDEX, (str(ip), dev)))
        out.setdefault(inst.name, tuple(addrs))
    return out


def vmac_members(config: KeepalivedConfig) -> list[Member]:
    """vrrp_vmac.c / nft_add_vmac(): each VMAC in vmac_map (-> its base interface) of its
    instance's family, and of the other family too when it has eVIPs of that family; for
    ip6 also in vmac_set. An IPv4 instance adds nothing under disable_local_igmp."""
    g = _globals(config)
    out: list[Member] = []
    for inst in _instances(config):
        name = _vmac(inst, g)
        if name is None or (inst.family == 4 and g.disable_local_igmp):
            continue
        families = [inst.family]
        if any(va.address.version != inst.family for va in inst.virtual_ipaddress_excluded):
            families.append(10 - inst.family)
        for fam in families:
            nf = "ip" if fam == 4 else "ip6"
            out.append(Member(nf, VMAC_MAP, (name, inst.interface)))
            if nf == "ip6":
                out.append(Member(nf, VMAC_SET, name))
    return out


# ---------------------------------------------------------------- the API for the vrrp child

class NftBackend(Protocol):
    """Port to the kernel: libnftables' JSON API (nft_libnftables.LibNftables), or a fake."""

    def list_table(self, family: str, name: str) -> Mapping[str, Any] | None:
        """`nft -j list table FAMILY NAME`, None when there is no such table."""

    def run(self, commands: list[Json]) -> None:
        """Apply the commands as one transaction; raise on failure."""


class NftFirewall:
    """keepalived's VRRP firewall for one vrrp child: start, per-instance state, reload, stop."""

    def __init__(self, backend: NftBackend):
        self.backend = backend
        self.settings: FirewallSettings | None = None
        self.addresses: dict[str, tuple[Member, ...]] = {}
        self.vmacs: list[Member] = []
        self.masters: list[str] = []  # in the order they became MASTER (the layout grows so)
        self.layout = Layout()
        self.notes: list[str] = []  # for the runtime to log, in keepalived's words

    def _actual(self) -> Ruleset:
        assert self.settings is not None
        out: Ruleset = {}
        for fam in FAMILIES:
            listing = self.backend.list_table(fam, self.settings.table)
            if listing is not None:
                out.update(parse_listing(listing, self.settings.table))
        return out

    def members(self) -> list[Member]:
        """What the sets hold now: the VMACs, then the MASTER instances' addresses."""
        return self.vmacs + [a for name in self.masters for a in self.addresses.get(name, ())]

    def _apply(self) -> None:
        if self.settings is None:
            return
        members = self.members()
        self.layout = self.layout.grow(members)
        cmds = plan(self._actual(), desired(self.settings, self.layout, members))
        if cmds:
            self.backend.run(cmds)

    def _read_config(self, config: KeepalivedConfig, settings: FirewallSettings) -> None:
        self.addresses = filtered_addresses(config, settings)
        self.vmacs = vmac_members(config)

    def start(self, config: KeepalivedConfig) -> None:
        """Adopt what a predecessor left: its tables stay (fixed if they differ), and the
        instances whose addresses are all in the sets count as MASTER until told otherwise."""
        self.settings = settings_from_config(config)
        if self.settings is None:
            return
        self._read_config(config, self.settings)
        actual = self._actual()
        self.layout = layout_of(actual)
        present = {(t.family, s.name, e) for t in actual.values() for s in t.sets for e in s.elements}
        self.masters = [n for n, addrs in self.addresses.items()
                        if addrs and all((a.family, a.set_name, a.element) in present for a in addrs)]
        self._apply()

    def instance_state(self, iname: str, state: str) -> None:
        """MASTER adds the instance's addresses to the sets; any other state removes them."""
        if self.settings is None:
            return
        if state == "MASTER":
            if iname in self.masters:
                return
            self.masters.append(iname)
        elif iname in self.masters:
            self.masters.remove(iname)
        else:
            return
        self._apply()

    def reload(self, config: KeepalivedConfig) -> None:
        """New addresses and VMACs for the current states; keepalived cannot change the table
        name at a reload, so the old name stays (a note says so)."""
        new = settings_from_config(config)
        if self.settings is not None and new is not None and new.table != self.settings.table:
            self.notes.append("Cannot change nftables table name at a reload - please restart keepalived")
            new = replace(new, table=self.settings.table)
        if new is None and self.settings is not None:
            new = self.settings  # the tables stay until stop, as in keepalived
        self.settings = new
        if new is None:
            return
        self._read_config(config, new)
        self.masters = [n for n in self.masters if n in self.addresses]
        self._apply()

    def stop(self) -> None:
        """Delete our tables (our name, ip and ip6), nothing else."""
        if self.settings is None:
            return
        actual = self._actual()
        cmds: list[Json] = [{"delete": {"table": {"family": t.family, "name": t.name}}} for t in actual.values()]
        if cmds:
            self.backend.run(cmds)
        self.masters = []
        self.layout = Layout()
