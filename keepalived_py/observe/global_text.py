"""keepalived.data's '------< Global definitions >------' as keepalived 2.2.7's VRRP process
writes it (core/global_data.c dump_global_data()), from the running configuration.

Written for keepalived's Debian 2.2.7 build (VRRP, LVS, BFD, SNMP, DBus, nftables, VMAC;
no iptables): the build decides which lines exist, so those lines are always written. What
keepalived computes at run time comes in as arguments: the default script user's uid:gid
(keepalived_script if that user exists, else root) and the nftables library version (the
build's libnftnl; keepalived-py links none: "unknown" unless given).

Pure: the configuration model in, lines out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keepalived_py.config.model.global_defs import GlobalDefs
    from keepalived_py.config.model.root import KeepalivedConfig

__all__ = ["global_lines"]


def _onoff(v: bool | None) -> str:
    return "unset" if v is None else "on" if v else "off"


def _tf(v: Any) -> str:
    return "true" if v else "false"


def _ids(spec: Any) -> str:
    uid = getattr(spec, "uid", None)
    gid = getattr(spec, "gid", None)
    return f"{uid or 0}:{gid or 0}"


def _cmd(script: Any) -> str:
    return str(getattr(script, "command", None) or getattr(script, "cmd", None) or script)


def _process_lines(g: GlobalDefs, name: str, label: str) -> list[str]:
    prefix = {"vrrp": "vrrp", "checker": "checker", "bfd": "bfd"}[name]
    cpus = getattr(g, f"{prefix}_cpu_affinity", ()) or ()
    out = [f" {label} process priority = {getattr(g, f'{prefix}_priority', 0)}",
           f" {label} don't swap = {_tf(getattr(g, f'{prefix}_no_swap', False))}",
           f" {label} realtime priority = {getattr(g, f'{prefix}_rt_priority', None) or 0}"]
    if cpus:
        out.append(f" {label} CPU Affinity = {' '.join(str(c) for c in cpus)}")
    out.append(f" {label} realtime limit = {getattr(g, f'{prefix}_rlimit_rttime', 10000)}")
    return out


def _fifo_lines(label: str, fifo: Any, script: Any) -> list[str]:
    if fifo is None:
        return []
    out = [f" {label} = {fifo.name}, uid:gid {_ids(fifo)}"]
    if script is not None:
        out.append(f" {label} script = {_cmd(script)}, uid:gid {_ids(script)}")
    return out


def _names(config: KeepalivedConfig, g: GlobalDefs) -> list[str]:
    """process_names gives the children default names (keepalived 2.2.7 writes
    keepalived_lvs for the checker's); the parent's is written only when configured."""
    out = []
    if getattr(config, "instance", None):
        out.append(f" Instance name = {config.instance}")
    defaults = getattr(g, "process_names", False)
    for label, attr, dflt in (("Parent process name", "process_name", None),
                              ("VRRP process name", "vrrp_process_name", "keepalived_vrrp"),
                              ("LVS process name", "checker_process_name", "keepalived_lvs"),
                              ("BFD process name", "bfd_process_name", "keepalived_bfd")):
        value = getattr(g, attr, None) or (dflt if defaults else None)
        if value:
            out.append(f" {label} = {value}")
    return out


def _smtp(g: GlobalDefs, hostname: str) -> list[str]:
    out = []
    if g.smtp_server is not None:
        out += [f" Smtp server = {g.smtp_server.host}", f" Smtp server port = {g.smtp_server.port}"]
    helo = g.smtp_helo_name or (hostname if g.smtp_server is not None else None)  # keepalived's default
    if helo:
        out.append(f" Smtp HELO name = {helo}")
    if g.smtp_connect_timeout:
        out.append(f" Smtp server connection timeout = {g.smtp_connect_timeout}")
    if g.notification_email_from:
        out += [f" Email notification from = {g.notification_email_from}", " Email notification to:"]
        out += [f"   {e}" for e in g.notification_email]
    out += [f" Default smtp_alert = {_onoff(g.smtp_alert)}",
            f" Default smtp_alert_vrrp = {_onoff(g.smtp_alert_vrrp)}",
            f" Default smtp_alert_checker = {_onoff(g.smtp_alert_checker)}",
            f" Checkers log all failures = {_tf(g.checker_log_all_failures)}"]
    return out


def _reload_and_scripts(g: GlobalDefs) -> list[str]:
    out = [f" Test config before reload, log to {g.reload_check_config}" if g.reload_check_config
           else " No test config before reload"]
    if g.reload_time_file:
        out += [f" Reload time file = {g.reload_time_file}{' (repeat)' if g.reload_repeat else ''}",
                " No reload scheduled"]
    if g.reload_file:
        out.append(f" Reload_file = {g.reload_file}")
    if g.data_use_instance:
        out.append(" Use instance name in data dumps")
    if g.startup_script is not None:
        out.append(f" Startup script = {_cmd(g.startup_script)}, uid:gid {_ids(g.startup_script)}, "
                   f"timeout {g.startup_script_timeout or 10}")
    if g.shutdown_script is not None:
        out.append(f" Shutdown script = {_cmd(g.shutdown_script)}, uid:gid {_ids(g.shutdown_script)} "
                   f"timeout {g.shutdown_script_timeout or 10}")
    out.append(f" Dynamic interfaces = {_tf(g.dynamic_interfaces)}")
    if g.dynamic_interfaces:
        out.append(f" Allow interface changes = {_tf(g.dynamic_interfaces == 'allow_if_changes')}")
    if g.no_email_faults:
        out.append(" Send emails for fault transitions = off")
    return out


def _lvs(g: GlobalDefs) -> list[str]:
    out = []
    t = g.lvs_timeouts
    if t is not None:
        if t.tcp:
            out.append(f" LVS TCP timeout = {t.tcp}")
        if t.tcpfin:
            out.append(f" LVS TCP FIN timeout = {t.tcpfin}")
        if t.udp:
            out.append(f" LVS TCP timeout = {t.udp}")   # keepalived 2.2.7's own words for udp
    out += [f" Default interface = {g.default_interface or 'eth0'}",
            f" Disable local IGMP = {'yes' if g.disable_local_igmp else 'no'}"]
    s = g.lvs_sync_daemon
    if s is not None:
        if s.instance:
            out.append(f" LVS syncd vrrp instance = {s.instance}")
        out += [f" LVS syncd interface = {s.interface}", f" LVS syncd syncid = {s.syncid or 0}"]
        if s.maxlen:
            out.append(f" LVS syncd maxlen = {s.maxlen}")
        if s.group is not None:
            out.append(f" LVS mcast group {s.group}")
        if s.port:
            out.append(f" LVS syncd mcast port = {s.port}")
        if s.ttl:
            out.append(f" LVS syncd mcast ttl = {s.ttl}")
    out += [f" LVS flush = {_tf(g.lvs_flush)}",
            f" LVS flush on stop = {g.lvs_flush_on_stop if g.lvs_flush_on_stop in ('full', 'VS') else 'disabled'}"]
    return out


def _vrrp(g: GlobalDefs, libnftnl: str) -> list[str]:
    lower_delay = g.vrrp_garp_lower_prio_delay if g.vrrp_garp_lower_prio_delay is not None \
        else g.vrrp_garp_master_delay
    lower_rep = g.vrrp_garp_lower_prio_repeat if g.vrrp_garp_lower_prio_repeat is not None \
        else g.vrrp_garp_master_repeat
    extra = g.vrrp_garp_extra_if
    extra_all = bool(getattr(extra, "all", False) or getattr(extra, "all_if", False))
    extra_intvl = getattr(extra, "interval", 0) if extra is not None else 0
    out = [f" FIFO write vrrp states on reload = {_tf(g.fifo_write_vrrp_states_on_reload)}",
           f" VRRP notify priority changes = {_tf(g.vrrp_notify_priority_changes)}",
           f" VRRP IPv4 mcast group = {g.vrrp_mcast_group4}",
           f" VRRP IPv6 mcast group = {g.vrrp_mcast_group6}",
           f" Gratuitous ARP delay = {g.vrrp_garp_master_delay}",
           f" Gratuitous ARP repeat = {g.vrrp_garp_master_repeat}",
           f" Gratuitous ARP refresh timer = {g.vrrp_garp_master_refresh}",
           f" Gratuitous ARP refresh repeat = {g.vrrp_garp_master_refresh_repeat}",
           f" Gratuitous ARP lower priority delay = {lower_delay}",
           f" Gratuitous ARP lower priority repeat = {lower_rep}",
           f" Num adverts before down = {g.vrrp_down_timer_adverts}",
           f" Gratuitous ARP for each secondary {'i/f' if extra_all else 'VMAC'} = {extra_intvl}s",
           f" Send advert after receive lower priority advert = {_tf(not g.vrrp_lower_prio_no_advert)}",
           f" Send advert after receive higher priority advert = {_tf(g.vrrp_higher_prio_send_advert)}",
           f" Gratuitous ARP interval = {g.vrrp_garp_interval:.6f}",
           f" Gratuitous NA interval = {g.vrrp_gna_interval:.6f}",
           f" VRRP default protocol version = {g.vrrp_version}"]
    if g.nftables:
        dont = "" if g.nftables_ifindex else "don't "
        out += [f" nftables table name = {g.nftables}", f" nftables base chain priority = {g.nftables_priority}",
                f" nftables {dont}force use ifindex for link local IPv6"]
    if g.nftables_ipvs:
        out += [f" ipvs nftables table name = {g.nftables_ipvs}",
                f" ipvs nftables base chain priority = {g.nftables_ipvs_priority}",
                f" ipvs nftables start fwmark = {g.nftables_ipvs_start_fwmark}"]
    out += [f" nftables with{'' if g.nftables_counters else 'out'} counters",
            f" libnftnl version {libnftnl}",
            f" VRRP check unicast_src = {_tf(g.vrrp_check_unicast_src)}",
            f" VRRP skip check advert addresses = {_tf(g.vrrp_skip_check_adv_addr)}",
            f" VRRP strict mode = {_tf(g.vrrp_strict)}",
            " Max auto priority = Disabled" if g.max_auto_priority == -1
            else f" Max auto priority = {g.max_auto_priority}",
            f" Min auto priority delay = {g.min_auto_priority_delay} usecs"]
    return out


def _tail(g: GlobalDefs, script_ids: tuple[int, int], umask: int) -> list[str]:
    rfc = g.enable_snmp_rfc
    out = [f" SNMP vrrp {'en' if g.enable_snmp_vrrp else 'dis'}abled",
           f" SNMP checker {'en' if g.enable_snmp_checker else 'dis'}abled",
           f" SNMP RFCv2 {'en' if g.enable_snmp_rfcv2 or rfc else 'dis'}abled",
           f" SNMP RFCv3 {'en' if g.enable_snmp_rfcv3 or rfc else 'dis'}abled",
           f" SNMP traps {'en' if g.enable_traps else 'dis'}abled",
           f" SNMP socket = {g.snmp_socket or 'default (unix:/var/agentx/master)'}",
           f" DBus {'en' if g.enable_dbus else 'dis'}abled",
           f" DBus service name = {g.dbus_service_name or ''}",
           f" Script security {'en' if g.enable_script_security else 'dis'}abled",
           f" Default script uid:gid {script_ids[0]}:{script_ids[1]}"]
    for name in ("vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_monitor_rcv_bufs", "process_monitor_rcv_bufs",
                 "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_monitor_rcv_bufs"):
        out += [f" {name} = {getattr(g, name)}", f" {name}_force = {int(getattr(g, name + '_force'))}"]
    out += [f" rs_init_notifies = {int(g.rs_init_notifies)}", f" no_checker_emails = {int(g.no_checker_emails)}"]
    policy = g.vrrp_rx_bufs_policy
    if policy is not None and policy.policy in ("MTU", "ADVERT"):
        out.append(f" rx_bufs_policy = {policy.policy}")
    elif policy is not None and policy.size:
        out.append(f" rx_bufs_size = {policy.size}")
    out += [f" rx_bufs_multiples = {g.vrrp_rx_bufs_multiplier}", f" umask = 0{umask:o}"]
    if g.vrrp_startup_delay:
        out.append(f" vrrp_startup_delay = {g.vrrp_startup_delay:g}")
    if g.log_unknown_vrids:
        out.append(" log_unknown_vrids")
    if g.vmac_prefix:
        out.append(f" VMAC prefix = {g.vmac_prefix}")
    if g.vmac_addr_prefix:
        out.append(f" VMAC address prefix = {g.vmac_addr_prefix}")
    return out


def global_lines(config: KeepalivedConfig, *, script_ids: tuple[int, int] = (0, 0), libnftnl: str = "unknown",
                 hostname: str = "") -> list[str]:
    """The section, header included, for the VRRP process (keepalived.data); `hostname`
    is the router_id keepalived uses when none is configured."""
    from keepalived_py.config.model.global_defs import GlobalDefs

    g = config.global_defs if config.global_defs is not None else GlobalDefs()
    umask = g.umask if g.umask is not None else 0o177
    ns_ipvs = config.net_namespace_ipvs
    out = ["------< Global definitions >------",
           f" Network namespace = {config.net_namespace or '(default)'}",
           f" Network namespace ipvs = {'(main namespace)' if ns_ipvs is None else ns_ipvs or '(default)'}"]
    out += _names(config, g)
    if g.router_id or hostname:
        out.append(f" Router ID = {g.router_id or hostname}")
    out += _smtp(g, hostname) + _reload_and_scripts(g) + _lvs(g)
    out += _fifo_lines("Global notify fifo", g.notify_fifo, g.notify_fifo_script)
    out += _fifo_lines("VRRP notify fifo", g.vrrp_notify_fifo, g.vrrp_notify_fifo_script)
    out += _fifo_lines("LVS notify fifo", g.lvs_notify_fifo, g.lvs_notify_fifo_script)
    out += _vrrp(g, libnftnl)
    out += _process_lines(g, "vrrp", "VRRP") + _process_lines(g, "checker", "Checker") + _process_lines(g, "bfd", "BFD")
    out += _tail(g, script_ids, umask)
    return out
