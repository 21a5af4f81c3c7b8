"""global_defs: daemon-wide settings (keepalived.conf(5) 'Global definitions').

Every keyword keepalived 2.2.7 installs in global_defs (keepalived/core/global_parser.c,
init_global_keywords) is declared here, with keepalived's ranges, defaults and messages.
A default of None means "not configured": keepalived then derives the value at run time
(router_id from the host name, smtp_helo_name, the reload file in the pid directory ...),
and the docstring of the field's value type (global_types.py) or the comment says how.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.model.global_types import (
    CpuAffinity,
    FifoSpec,
    FifoSpecType,
    IncludeCheckType,
    IpsetsType,
    IptablesChains,
    IptablesType,
    LvsSyncDaemon,
    LvsSyncDaemonType,
    LvsTimeouts,
    LvsTimeoutsType,
    MaxAutoPriority,
    McastGroup,
    NicePriority,
    OptName,
    ProcessName,
    RtPriority,
    RtRlimit,
    RxBufsPolicy,
    RxBufsPolicyType,
    ScriptUser,
    ScriptUserType,
    SmtpServer,
    SmtpServerType,
    SnmpSocket,
    UmaskType,
)
from keepalived_py.config.model.newer_types import PathArg
from keepalived_py.config.numbers import INT_MAX, TIMER_HZ, UINT_MAX
from keepalived_py.config.schema import (
    Ctx,
    Entries,
    Model,
    Present,
    Word,
    kw,
    model,
)
from keepalived_py.config.values import (
    Decimal,
    GarpExtraIf,
    GarpExtraIfType,
    NotifyScript,
    NotifyScriptType,
    Number,
    OptBool,
    OptChoice,
    Str,
)

GE = ConfigErr.GENERAL_ERROR
RT_RLIMIT_DEFAULT = 10000

#: the message of keepalived's global <BOOL> keywords for a word that is not one
_GLOBAL_BOOL = "Invalid value '{v}' for global {kw} specified"
_VERY_LARGE = "The {kw} is very large - {v} seconds"


def _empty_email_block(value: Sequence[str], ctx: Ctx) -> Sequence[str]:
    if not value:
        ctx.warn_at_end("Warning - empty notification_email block", GE)
    return value


# --------------------------------------------------------------------------- the block
@model
class GlobalDefs(Model):
    block_keyword = "global_defs"

    # --- process names
    process_names: bool = kw(Present(), default=False)
    process_name: str | None = kw(ProcessName())
    vrrp_process_name: str | None = kw(ProcessName())
    checker_process_name: str | None = kw(ProcessName(), aliases=("lvs_process_name",))
    bfd_process_name: str | None = kw(ProcessName())

    # --- identity and email
    router_id: str | None = kw(Str("routerid name missing - ignoring"))  # default: host name
    notification_email_from: str | None = kw(Str("emailfrom missing - ignoring"))  # keepalived@<host>
    smtp_server: SmtpServer | None = kw(SmtpServerType())
    smtp_helo_name: str | None = kw(Str(""))  # default: host name
    smtp_connect_timeout: int | None = kw(Number(0, UINT_MAX // TIMER_HZ,
                                              error="smtp_connect_timeout '{v}' must be in [0, 4294] - ignoring",
                                              zero=(1, "smtp_conect_timeout must be greater than 0, setting to 1")))
    notification_email: tuple[str, ...] = kw(Entries(Word()), check=_empty_email_block)
    smtp_alert: bool | None = kw(OptBool(_GLOBAL_BOOL))
    smtp_alert_vrrp: bool | None = kw(OptBool(_GLOBAL_BOOL))
    smtp_alert_checker: bool | None = kw(OptBool(_GLOBAL_BOOL))
    checker_log_all_failures: bool = kw(OptBool("Invalid value for checker_log_all_failures specified"),
                                        default=False)
    no_email_faults: bool = kw(Present(), default=False)
    no_checker_emails: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    rs_init_notifies: bool = kw(OptBool(_GLOBAL_BOOL), default=False)

    # --- startup / shutdown scripts (timeouts default to 10 s when a script is set)
    startup_script: NotifyScript | None = kw(NotifyScriptType("startup script missing"))
    startup_script_timeout: int | None = kw(Number(1, 1000, error="startup_script_timeout '{v}' must be in [1, 1000] - ignoring",
                                                missing="startup_script_timeout requires value"))
    shutdown_script: NotifyScript | None = kw(NotifyScriptType("shutdown script missing"))
    shutdown_script_timeout: int | None = kw(Number(1, 1000,
                                                 error="shutdown_script_timeout '{v}' must be in [1, 1000] - ignoring",
                                                 missing="shutdown_script_timeout requires value"))

    # --- scheduling of the child processes
    max_auto_priority: int = kw(MaxAutoPriority(), default=0)
    min_auto_priority_delay: int = kw(Number(1, 10_000_000, error="min_auto_priority_delay '{v}' must be in [1, 10000000] - "
                                                         "ignoring", missing="min_auto_priority_delay requires delay time"),
                                      default=1_000_000)
    vrrp_priority: int = kw(NicePriority(), default=0)
    checker_priority: int = kw(NicePriority(), default=0)
    bfd_priority: int = kw(NicePriority(), default=0)
    vrrp_no_swap: bool = kw(Present(), default=False)
    checker_no_swap: bool = kw(Present(), default=False)
    bfd_no_swap: bool = kw(Present(), default=False)
    vrrp_rt_priority: int | None = kw(RtPriority())
    checker_rt_priority: int | None = kw(RtPriority())
    bfd_rt_priority: int | None = kw(RtPriority())
    vrrp_cpu_affinity: tuple[int, ...] = kw(CpuAffinity(), default=())
    checker_cpu_affinity: tuple[int, ...] = kw(CpuAffinity(), default=())
    bfd_cpu_affinity: tuple[int, ...] = kw(CpuAffinity(), default=())
    # *_rlimit_rtime: deprecated spelling, keepalived only logs it
    vrrp_rlimit_rttime: int = kw(RtRlimit(), default=RT_RLIMIT_DEFAULT, aliases=("vrrp_rlimit_rtime",))
    checker_rlimit_rttime: int = kw(RtRlimit(), default=RT_RLIMIT_DEFAULT, aliases=("checker_rlimit_rtime",))
    bfd_rlimit_rttime: int = kw(RtRlimit(), default=RT_RLIMIT_DEFAULT, aliases=("bfd_rlimit_rtime",))

    # --- interfaces
    dynamic_interfaces: bool | str = kw(OptChoice(True, "allow_if_changes", error="Unknown dynamic_interfaces option '{v}'",
                                                             fallback=True), default=False)
    default_interface: str | None = kw(Str("default_interface requires interface name"))  # default eth0
    disable_local_igmp: bool = kw(Present(), default=False)

    # --- LVS
    lvs_timeouts: LvsTimeouts | None = kw(LvsTimeoutsType())
    lvs_flush: bool = kw(Present(), default=False)
    lvs_flush_on_stop: str | None = kw(OptChoice("full", "VS", error="Unknown lvs_flush_on_stop type {v}"),
                                          aliases=("lvs_flush_onstop",))
    lvs_sync_daemon: LvsSyncDaemon | None = kw(LvsSyncDaemonType())

    # --- VRRP protocol defaults
    vrrp_mcast_group4: ipaddress.IPv4Address = kw(McastGroup(4), default=ipaddress.IPv4Address("224.0.0.18"))
    vrrp_mcast_group6: ipaddress.IPv6Address = kw(McastGroup(6), default=ipaddress.IPv6Address("ff02::12"))
    vrrp_garp_master_delay: int = kw(Number(0, UINT_MAX // TIMER_HZ), default=5)
    vrrp_garp_master_repeat: int = kw(Number(0, UINT_MAX, zero=(1, "vrrp_garp_master_repeat must be greater than 0, "
                                                                   "setting to 1")), default=5)
    vrrp_garp_master_refresh: int = kw(Number(0, UINT_MAX, error="Invalid vrrp_garp_master_refresh '{v}' - ignoring"),
                                       default=0)
    vrrp_garp_master_refresh_repeat: int = kw(Number(0, UINT_MAX, zero=(
        1, "vrrp_garp_master_refresh_repeat must be greater than 0, setting to 1")), default=1)
    vrrp_garp_lower_prio_delay: int | None = kw(Number(0, UINT_MAX // TIMER_HZ))  # default: vrrp_garp_master_delay
    vrrp_garp_lower_prio_repeat: int | None = kw(Number(0, INT_MAX, error="Invalid vrrp_garp_lower_prio_repeat '{v}'"))
    vrrp_down_timer_adverts: int = kw(Number(1, 100, error="Invalid vrrp_down_timer_adverts [1:100] '{v}'"), default=3)
    vrrp_garp_interval: float = kw(Decimal(1 / TIMER_HZ, UINT_MAX / TIMER_HZ, large=(1.0, _VERY_LARGE)), default=0.0)
    vrrp_gna_interval: float = kw(Decimal(1 / TIMER_HZ, UINT_MAX / TIMER_HZ, large=(1.0, _VERY_LARGE)), default=0.0)
    vrrp_min_garp: bool = kw(OptBool("Invalid value for vrrp_min_garp specified"), default=False)
    vrrp_garp_extra_if: GarpExtraIf | None = kw(GarpExtraIfType(1), deprecated=("vrrp_vmac_garp_intvl",))
    # None: false, or true under vrrp_strict
    vrrp_lower_prio_no_advert: bool | None = kw(OptBool("Invalid value for vrrp_lower_prio_no_advert specified"))
    vrrp_higher_prio_send_advert: bool | None = kw(OptBool("Invalid value for vrrp_higher_prio_send_advert "
                                                           "specified"))
    vrrp_version: int = kw(Number(2, 3, error="VRRP Error: Version must be either 2 or 3"), default=2)
    vrrp_check_unicast_src: bool = kw(Present(), default=False)
    vrrp_skip_check_adv_addr: bool = kw(Present(), default=False)
    vrrp_strict: bool = kw(Present(), default=False)
    vrrp_notify_priority_changes: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    vrrp_startup_delay: float = kw(Decimal(0.001, UINT_MAX / TIMER_HZ, large=(60.0, _VERY_LARGE)), default=0.0)
    log_unknown_vrids: bool = kw(Present(), default=False)
    vmac_prefix: str | None = kw(Str())  # default "vrrp"
    vmac_addr_prefix: str | None = kw(Str())  # default: vmac_prefix
    vrrp_rx_bufs_policy: RxBufsPolicy | None = kw(RxBufsPolicyType())
    vrrp_rx_bufs_multiplier: int = kw(Number(1, UINT_MAX, error="Invalid vrrp_rx_bufs_multiplier {v}",
                                          missing="Invalid vrrp_rx_bufs_multiplier", exact_args=True), default=3)

    # --- firewall
    vrrp_iptables: IptablesChains | None = kw(IptablesType())
    vrrp_ipsets: tuple[str, ...] | None = kw(IpsetsType())
    nftables: str | None = kw(OptName("keepalived", 256, "nftables table name too long - ignoring"))
    nftables_priority: int = kw(Number(-(2**31), 2**31 - 1, error="invalid nftables chain priority '{v}'", signed=True),
                                default=-1)
    nftables_ifindex: bool = kw(Present(), default=False)
    nftables_ipvs: str | None = kw(OptName("keepalived_ipvs", 256, "ipvs nftables table name too long - ignoring"))
    nftables_ipvs_priority: int = kw(Number(-(2**31), 2**31 - 1, error="invalid ipvs nftables chain priority '{v}'",
                                         signed=True), default=-1)
    nftables_ipvs_start_fwmark: int = kw(Number(1, UINT_MAX, error="invalid ipvs nftables start_fwmark priority '{v}'"),
                                         default=1000)
    nftables_counters: bool = kw(Present(), default=False)

    # --- notify FIFOs
    notify_fifo: FifoSpec | None = kw(FifoSpecType())
    notify_fifo_script: NotifyScript | None = kw(NotifyScriptType("No notify_fifo_script specified"))
    vrrp_notify_fifo: FifoSpec | None = kw(FifoSpecType())
    vrrp_notify_fifo_script: NotifyScript | None = kw(NotifyScriptType("No vrrp_notify_fifo_script specified"))
    lvs_notify_fifo: FifoSpec | None = kw(FifoSpecType())
    lvs_notify_fifo_script: NotifyScript | None = kw(NotifyScriptType("No lvs_notify_fifo_script specified"))
    fifo_write_vrrp_states_on_reload: bool = kw(Present(), default=False)

    # --- SNMP and DBus
    snmp_socket: str | None = kw(SnmpSocket())  # default unix:/var/agentx/master
    enable_traps: bool = kw(Present(), default=False)
    # enable_snmp_keepalived: deprecated since 2.0.0, keepalived accepts it silently
    enable_snmp_vrrp: bool = kw(Present(), default=False, aliases=("enable_snmp_keepalived",))
    enable_snmp_rfc: bool = kw(Present(), default=False)
    enable_snmp_rfcv2: bool = kw(Present(), default=False)
    enable_snmp_rfcv3: bool = kw(Present(), default=False)
    enable_snmp_checker: bool = kw(Present(), default=False)
    enable_dbus: bool = kw(Present(), default=False)
    dbus_service_name: str | None = kw(Str("dbus_service_name missing - ignoring"))  # org.keepalived.Vrrp1

    # --- scripts
    script_user: ScriptUser | None = kw(ScriptUserType())  # default keepalived_script, else root
    enable_script_security: bool = kw(Present(), default=False)

    # --- netlink buffers (0: the system default)
    vrrp_netlink_cmd_rcv_bufs: int = kw(Number(0, UINT_MAX, error="vrrp_netlink_cmd_rcv_bufs size ({v}) invalid",
                                            missing="vrrp_netlink_cmd_rcv_bufs size missing"), default=0)
    vrrp_netlink_cmd_rcv_bufs_force: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    vrrp_netlink_monitor_rcv_bufs: int = kw(Number(0, UINT_MAX, error="vrrp_netlink_monitor_rcv_bufs size ({v}) invalid",
                                                missing="vrrp_netlink_monitor_rcv_bufs size missing"), default=0)
    vrrp_netlink_monitor_rcv_bufs_force: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    process_monitor_rcv_bufs: int = kw(Number(0, UINT_MAX, error="process_monitor_rcv_bufs size ({v}) invalid",
                                           missing="process_monitor_rcv_bufs size missing"), default=0)
    process_monitor_rcv_bufs_force: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    lvs_netlink_cmd_rcv_bufs: int = kw(Number(0, UINT_MAX, error="lvs_netlink_cmd_rcv_bufs size ({v}) invalid",
                                           missing="lvs_netlink_cmd_rcv_bufs size missing"), default=0)
    lvs_netlink_cmd_rcv_bufs_force: bool = kw(OptBool(_GLOBAL_BOOL), default=False)
    lvs_netlink_monitor_rcv_bufs: int = kw(Number(0, UINT_MAX, error="lvs_netlink_monitor_rcv_bufs size ({v}) invalid",
                                               missing="lvs_netlink_monitor_rcv_bufs size missing"), default=0)
    lvs_netlink_monitor_rcv_bufs_force: bool = kw(OptBool(_GLOBAL_BOOL), default=False)

    # --- files, reloads, misc
    umask: int | None = kw(UmaskType())  # default IWGRP|IWOTH (022)
    random_seed: int | None = kw(Number(0, UINT_MAX, error="random_seed {v} invalid"))
    reload_check_config: str | None = kw(OptName("/dev/null"))
    reload_time_file: str | None = kw(Str("reload_time_file invalid", exact=True))
    reload_repeat: bool = kw(Present(), default=False)
    reload_file: str | None = kw(OptName(""))  # "": keepalived.reload in the pid directory
    include_check: tuple[str, ...] | None = kw(IncludeCheckType())
    config_save_dir: str | None = kw(Str())
    tmp_config_directory: str | None = kw(Str("{kw} missing directory name"))
    data_use_instance: bool = kw(OptBool("Invalid value '{v}' for global date_use_instance specified"),
                                 default=False)

    # --- keywords of newer keepalived releases (2.2.7 rejects them; see docs/newer-keywords.md)
    #: seconds after boot before the VRRP instances start (the longer of it and
    #: vrrp_startup_delay wins; see effective_startup_delay)
    vrrp_delay_after_boot: float | None = kw(Decimal(0.001, UINT_MAX / TIMER_HZ,
                                                     error="vrrp_delay_after_boot '{v}' is invalid"), since="2.4.0")
    #: an address owner (priority 255) drops the adverts it receives (instances' default);
    #: upstream's message names the keyword and the value the other way round
    vrrp_owner_ignore_adverts: bool = kw(OptBool("Invalid value '{kw}' for global {v} specified"), default=False,
                                         since="2.3.3")
    v3_checksum_as_v2: bool = kw(Present(), default=False, since="2.2.8")
    json_version: int = kw(Number(1, 2, error="Invalid JSON version", missing="{kw} requires version"),
                           default=1, since="2.2.8")
    #: where USR1 / USR2 / the JSON signal write (a path ending in '/' is a folder; a relative
    #: one is in the temporary folder): see observe/dumps.py
    state_dump_file: str | None = kw(PathArg("{kw} requires a non-empty path", non_empty=True), since="2.3.3")
    stats_dump_file: str | None = kw(PathArg("{kw} requires a non-empty path", non_empty=True), since="2.3.3")
    json_dump_file: str | None = kw(PathArg("{kw} requires a non-empty path", non_empty=True), since="2.3.3")
    iproute_usr_dir: str | None = kw(PathArg("{kw} requires path"), since="2.3.2")
    iproute_etc_dir: str | None = kw(PathArg("{kw} requires path"), since="2.3.2")
    use_symlink_paths: bool = kw(OptBool("Invalid value '{v}' for global use_symlink_path specified"),
                                 default=False, since="2.3.0")
    set_supplementary_groups: bool = kw(OptBool("Invalid set_supplementary_groups parameter {v}"), default=False,
                                        since="main (after 2.4.3)")
    dbus_no_interface_name: str | None = kw(Str("dbus_no_interface_name missing - ignoring"), since="2.3.0")
    #: seconds (1 ms .. 30 s)
    snmp_vs_stats_update_interval: float | None = kw(Decimal(0.001, 30, error="snmp stats vs update interval '{v}' "
                                                                             "invalid - ignoring"), since="2.3.0")
    snmp_rs_stats_update_interval: float | None = kw(Decimal(0.001, 30, error="snmp stats vs update interval '{v}' "
                                                                             "invalid - ignoring"), since="2.3.0")

    def effective_startup_delay(self, uptime_s: float) -> float:
        """Seconds the VRRP instances wait at start: vrrp_startup_delay, or what is left of
        vrrp_delay_after_boot at `uptime_s` seconds since boot when that is longer (so a
        restart long after boot does not wait)."""
        delay = float(self.vrrp_startup_delay or 0)
        if self.vrrp_delay_after_boot is not None and uptime_s < self.vrrp_delay_after_boot:
            delay = max(delay, self.vrrp_delay_after_boot - uptime_s)
        return delay
