"""Which keywords keepalived-py acts on today; `-t` lists every other keyword it meets under
'parsed, not implemented'. Each runtime issue adds the keywords it really implements (a
test checks every name here exists in the schema). Names are `block.keyword` as -t prints
them, where `block` is the keyword that opens the block ('top level' outside any).

The VRRP child (keepalived_py/vrrpd: plan.py, runtime.py, firewall.py (accept/no_accept,
vrrp_strict, nftables*), mail.py (smtp_alert, the mail globals, router_id in the subject),
process.py (the vrrp_* process knobs; max_auto_priority logged once as ignored);
keepalived_py/track: trackers.py, notify.py; wire.py: linkbeat polling, track_src_ip)
reads the names below (reload_fifo.py: fifo_write_vrrp_states_on_reload; daemon.py: the
vrrp_netlink_* buffers; link_delays.py: interface_up_down_delays; static_track.py: track_group; dynamic_if.py: dynamic_interfaces). `vrf` is read as keepalived 2.2.7 reads it, where it never takes
effect (it only applies to an instance without an interface, which 2.2.7 rejects):
validate/vrrp.py gives 2.2.7's messages and vrrpd/ignored.py logs once at start that it is
ignored. Still listed by -t on the VRRP side:
vrrp_ipsets (no ipset support, as Debian's 2.2.7) and auth_hmac's keywords; then
the checker blocks. (syncd.py drives the IPVS sync daemon for lvs_sync_daemon /
lvs_sync_daemon_interface.)

Keywords of newer keepalived releases (docs/newer-keywords.md): the VRRP / dump ones named
below are acted on; auth_hmac and the checker, BFD,
SNMP, DBus and iproute ones are parsed only, so -t lists them.
"""

from __future__ import annotations

_VRRP_INSTANCE = """
state interface virtual_router_id priority advert_int version preempt preempt_delay native_ipv6
virtual_ipaddress virtual_ipaddress_excluded virtual_routes virtual_rules
unicast_peer unicast_src_ip mcast_src_ip mcast_dst_ip unicast_ttl unicast_fault_no_peer check_unicast_src
old_unicast_checksum track_interface track_script track_file track_process track_bfd dont_track_primary
use_vmac vmac_xmit_base garp_master_delay garp_master_repeat garp_master_refresh
garp_master_refresh_repeat garp_lower_prio_delay garp_lower_prio_repeat lower_prio_no_advert
higher_prio_send_advert skip_check_adv_addr down_timer_adverts strict_mode notify_priority_changes
notify_master notify_backup notify_fault notify_stop notify notify_master_rx_lower_pri
accept smtp_alert notify_deleted garp_extra_if kernel_rx_buf_size lvs_sync_daemon_interface
promote_secondaries
owner_ignore_adverts no_virtual_ipaddress v3_checksum_as_v2 timer_expired_backup thread_timer_expired
debug linkbeat_use_polling track_src_ip use_ipvlan use_vmac_addr vrf
"""
_GLOBAL_DEFS = """
vrrp_version vrrp_strict vrrp_garp_master_delay vrrp_garp_master_repeat vrrp_garp_master_refresh
vrrp_garp_master_refresh_repeat vrrp_garp_lower_prio_delay vrrp_garp_lower_prio_repeat
vrrp_garp_interval vrrp_gna_interval vrrp_lower_prio_no_advert vrrp_higher_prio_send_advert
vrrp_skip_check_adv_addr vrrp_check_unicast_src vrrp_down_timer_adverts vrrp_mcast_group4
vrrp_mcast_group6 vrrp_min_garp vrrp_notify_priority_changes vrrp_startup_delay log_unknown_vrids
vmac_prefix script_user enable_script_security notify_fifo notify_fifo_script vrrp_notify_fifo
vrrp_notify_fifo_script
router_id notification_email notification_email_from smtp_server smtp_helo_name smtp_connect_timeout
smtp_alert smtp_alert_vrrp no_email_faults
vrrp_priority vrrp_no_swap vrrp_rt_priority vrrp_rlimit_rttime vrrp_cpu_affinity vrrp_process_name
max_auto_priority min_auto_priority_delay
vrrp_iptables nftables nftables_priority nftables_ifindex nftables_counters vrrp_garp_extra_if
vrrp_rx_bufs_policy vrrp_rx_bufs_multiplier lvs_sync_daemon
vrrp_owner_ignore_adverts vrrp_delay_after_boot json_version state_dump_file stats_dump_file json_dump_file
v3_checksum_as_v2
vmac_addr_prefix disable_local_igmp fifo_write_vrrp_states_on_reload default_interface
vrrp_netlink_cmd_rcv_bufs vrrp_netlink_cmd_rcv_bufs_force vrrp_netlink_monitor_rcv_bufs
vrrp_netlink_monitor_rcv_bufs_force dynamic_interfaces
"""
_BLOCKS = {
    "vrrp_instance": _VRRP_INSTANCE,
    "authentication": "auth_type auth_pass",
    "global_defs": _GLOBAL_DEFS,
    "vrrp_script": "script interval timeout weight rise fall user init_fail",
    "track_file": "file weight init_file",
    "vrrp_track_process": "process param_match full_command weight quorum quorum_max fork_delay "
                          "terminate_delay delay",
    "vrrp_sync_group": "group notify_master notify_backup notify_fault notify_stop notify track_interface "
                       "track_script track_file track_process track_bfd smtp_alert notify_priority_changes "
                       "global_tracking sync_group_tracking_weight",
    "garp_group": "garp_interval gna_interval interface interfaces",
    # the bfd child (keepalived_py/bfd); `weight` is track_bfd's default (vrrpd/track_bfd.py)
    "bfd_instance": "neighbor_ip source_ip min_rx min_tx idle_tx multiplier passive ttl max_hops vrrp checker "
                    "weight",
    # the check child follows the bfd child's reports (check/kinds/bfd.py)
    "BFD_CHECK": "name alpha",
    "track_group": "group",  # vrrpd/static_track.py
    "top level": "static_ipaddress static_routes static_rules linkbeat_use_polling linkbeat_interfaces "
                 "track_group "
                 "interface_up_down_delays",
}

# The check child (keepalived_py/check: spec.py (inheritance, endpoints), hysteresis.py,
# quorum.py, notify.py, kinds/*; keepalived_py/lvs/plan.py (the IPVS table)) reads these.
# Still listed by -t: virtual_server.hashed (shown in the dump, never set on the service;
# the kernel marks every service hashed anyway), snmp_name and SNMP (out of scope),
# url.regex_stack (sizes PCRE2's JIT stack; Python's re has none to size),
# lvs_netlink_cmd_rcv_bufs (keepalived's checker has an rtnetlink command socket for its
# interface queries; the check child has none, and its IPVS netlink socket, lvs/kernel.py,
# keeps a fixed 4 MiB) and
# nftables_ipvs* (a virtual_server_group as one fwmark service with nftables marking
# its addresses: not built; groups are programmed entry by entry).
_CHECKER_COMMON = ("alpha bind_if bind_port bindto connect_ip connect_port connect_timeout delay_before_retry "
                   "delay_loop fwmark log_all_failures retry warmup")
_CHECK_BLOCKS = {
    "virtual_server": "protocol lb_algo lb_kind delay_loop persistence_timeout persistence_granularity "
                      "persistence_engine ops sh-port sh-fallback mh-port mh-fallback flag-1 flag-2 flag-3 "
                      "ip_family sorry_server sorry_server_inhibit sorry_server_lvs_method quorum quorum_up "
                      "quorum_down hysteresis alpha omega inhibit_on_failure retry connect_timeout "
                      "delay_before_retry warmup weight virtualhost ha_suspend smtp_alert",
    "real_server": "weight inhibit_on_failure notify_up notify_down smtp_alert uthreshold lthreshold lvs_method "
                   "alpha retry connect_timeout delay_before_retry delay_loop warmup virtualhost",
    "TCP_CHECK": _CHECKER_COMMON,
    "HTTP_GET": _CHECKER_COMMON + " enable_sni fast_recovery http_protocol virtualhost sni_name",
    # check/tls.py: the SSL block builds SSL_GET's client context; tls_compliant its close_notify
    "SSL_GET": _CHECKER_COMMON + " enable_sni fast_recovery http_protocol virtualhost sni_name tls_compliant",
    "SSL": "password ca certificate key",
    "url": "path digest status_code virtualhost regex regex_max_offset regex_min_offset regex_no_match "
           "regex_options tls_compliant",
    "SMTP_CHECK": _CHECKER_COMMON + " helo_name",
    # the timing ones are the SMTP_CHECK's, last written wins (check/spec.py _smtp_shared_timing)
    "host": "bind_if bind_port bindto connect_ip connect_port connect_timeout fwmark "
            "alpha retry delay_loop delay_before_retry warmup log_all_failures",
    "DNS_CHECK": _CHECKER_COMMON + " name type",
    "UDP_CHECK": _CHECKER_COMMON + " payload require_reply min_reply_length max_reply_length",
    # connect_port: keepalived's ICMP echo ignores it too (FMT_CHK is the real server's)
    "PING_CHECK": _CHECKER_COMMON,
    "MISC_CHECK": "alpha delay_before_retry delay_loop log_all_failures misc_dynamic misc_path misc_timeout "
                  "retry user warmup",
    "FILE_CHECK": "track_file weight",
    "global_defs": "checker_process_name smtp_alert_checker checker_log_all_failures no_checker_emails "
                   "rs_init_notifies lvs_timeouts lvs_flush lvs_flush_on_stop lvs_notify_fifo "
                   "lvs_notify_fifo_script "
                   # core/process_priority.py, applied as the check / bfd child starts
                   "checker_priority checker_no_swap checker_rt_priority checker_cpu_affinity checker_rlimit_rttime "
                   "bfd_priority bfd_no_swap bfd_rt_priority bfd_cpu_affinity bfd_rlimit_rttime "
                   # check/addrwatch.py: the check child's netlink monitor socket
                   "lvs_netlink_monitor_rcv_bufs lvs_netlink_monitor_rcv_bufs_force",
}

ACTED_ON: frozenset[str] = frozenset(f"{block}.{name}" for blocks in (_BLOCKS, _CHECK_BLOCKS)
                                     for block, names in blocks.items() for name in names.split())
