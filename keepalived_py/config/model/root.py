"""The whole configuration: the top-level blocks and keywords of keepalived.conf."""

from __future__ import annotations

from keepalived_py.config.model.addresses import StaticAddressEntry, VirtualAddress
from keepalived_py.config.model.bfd import BfdInstance
from keepalived_py.config.model.global_defs import GlobalDefs
from keepalived_py.config.model.lvs import VirtualServer, VirtualServerGroup
from keepalived_py.config.model.route_entry import StaticRouteEntry
from keepalived_py.config.model.routes import Route
from keepalived_py.config.model.rules import Rule, StaticRuleEntry
from keepalived_py.config.model.static import (
    LinkbeatEntry,
    LinkbeatInterface,
    SslDefs,
    TrackGroup,
    UpDownDelay,
    UpDownDelayEntry,
)
from keepalived_py.config.model.tracking import TrackFile, TrackProcess, VrrpScript
from keepalived_py.config.model.vrrp import GarpGroup, VrrpInstance, VrrpSyncGroup
from keepalived_py.config.numbers import UINT_MAX
from keepalived_py.config.schema import Entries, Model, Nested, Present, Word, kw, model
from keepalived_py.config.values import Number


@model
class KeepalivedConfig(Model):
    """Everything keepalived.conf says; each child process reads the part it acts on."""

    block_keyword = ""

    # daemon facilities that stand outside global_defs (keepalived.conf(5) 'Global definitions')
    net_namespace: str | None = kw(Word())
    net_namespace_ipvs: str | None = kw(Word())
    # keepalived's handlers for these three set them whatever words follow
    namespace_with_ipsets: bool = kw(Present(), default=False)
    instance: str | None = kw(Word())
    use_pid_dir: bool = kw(Present(), default=False)
    linkbeat_use_polling: bool = kw(Present(), default=False)
    child_wait_time: int = kw(Number(0, UINT_MAX, error="Invalid child_wait_time {v}"), default=5)
    global_defs: GlobalDefs | None = kw(Nested(GlobalDefs), merge=True)
    ssl: SslDefs | None = kw(Nested(SslDefs), name="SSL")
    linkbeat_interfaces: tuple[LinkbeatInterface, ...] = kw(Entries(LinkbeatEntry()))
    interface_up_down_delays: tuple[UpDownDelay, ...] = kw(Entries(UpDownDelayEntry()))
    track_group: tuple[TrackGroup, ...] = kw(Nested(TrackGroup), multi=True)
    static_ipaddress: tuple[VirtualAddress, ...] = kw(Entries(StaticAddressEntry()))
    static_routes: tuple[Route, ...] = kw(Entries(StaticRouteEntry()))
    static_rules: tuple[Rule, ...] = kw(Entries(StaticRuleEntry()))
    bfd_instance: tuple[BfdInstance, ...] = kw(Nested(BfdInstance), multi=True)
    vrrp_script: tuple[VrrpScript, ...] = kw(Nested(VrrpScript), multi=True)
    # keepalived 2.2.7: track_file is the keyword, vrrp_track_file its older synonym
    vrrp_track_file: tuple[TrackFile, ...] = kw(Nested(TrackFile), multi=True, name="track_file",
                                                aliases=("vrrp_track_file",))
    vrrp_track_process: tuple[TrackProcess, ...] = kw(Nested(TrackProcess), multi=True)
    vrrp_sync_group: tuple[VrrpSyncGroup, ...] = kw(Nested(VrrpSyncGroup), multi=True)
    garp_group: tuple[GarpGroup, ...] = kw(Nested(GarpGroup), multi=True)
    vrrp_instance: tuple[VrrpInstance, ...] = kw(Nested(VrrpInstance), multi=True)
    virtual_server_group: tuple[VirtualServerGroup, ...] = kw(Nested(VirtualServerGroup), multi=True)
    virtual_server: tuple[VirtualServer, ...] = kw(Nested(VirtualServer), multi=True)

    # keepalived's rule (have_vrrp_config / have_checker_config / have_bfd_config) for which
    # child processes have work; `--all` starts them regardless.
    def needs_vrrp(self) -> bool:
        return bool(self.vrrp_instance or self.static_ipaddress or self.static_routes or self.static_rules)

    def needs_check(self) -> bool:
        return bool(self.virtual_server)

    def needs_bfd(self) -> bool:
        return bool(self.bfd_instance)
