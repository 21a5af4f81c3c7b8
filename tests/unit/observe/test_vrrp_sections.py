"""keepalived.data's Global definitions, VRRP Sockpool and VRRP Sync groups from the pure
writers (observe/global_text.py, observe/vrrp_sections.py), against the text keepalived
2.2.7 wrote for the same configuration (captured in the lab by
tests/integration/test_vrrp_dump_sections.py; there the comparison runs live)."""

from __future__ import annotations

from types import SimpleNamespace

from keepalived_py.config.loader import load_text
from keepalived_py.observe.global_text import global_lines
from keepalived_py.observe.vrrp_sections import (
    LinkView,
    interfaces_lines,
    sockpool_lines,
    sync_group_lines,
)
from keepalived_py.vrrp.machine import State
from tests.integration.test_vrrp_dump_sections import CONF

KEEPALIVED_GLOBAL = [
    '------< Global definitions >------',
    ' Network namespace = (default)',
    ' Network namespace ipvs = (main namespace)',
    ' Router ID = r1',
    ' Default smtp_alert = unset',
    ' Default smtp_alert_vrrp = unset',
    ' Default smtp_alert_checker = unset',
    ' Checkers log all failures = false',
    ' No test config before reload',
    ' Dynamic interfaces = false',
    ' Default interface = eth0',
    ' Disable local IGMP = no',
    ' LVS flush = false',
    ' LVS flush on stop = disabled',
    ' FIFO write vrrp states on reload = false',
    ' VRRP notify priority changes = false',
    ' VRRP IPv4 mcast group = 224.0.0.18',
    ' VRRP IPv6 mcast group = ff02::12',
    ' Gratuitous ARP delay = 3',
    ' Gratuitous ARP repeat = 2',
    ' Gratuitous ARP refresh timer = 0',
    ' Gratuitous ARP refresh repeat = 1',
    ' Gratuitous ARP lower priority delay = 3',
    ' Gratuitous ARP lower priority repeat = 2',
    ' Num adverts before down = 3',
    ' Gratuitous ARP for each secondary VMAC = 0s',
    ' Send advert after receive lower priority advert = true',
    ' Send advert after receive higher priority advert = false',
    ' Gratuitous ARP interval = 0.000000',
    ' Gratuitous NA interval = 0.000000',
    ' VRRP default protocol version = 2',
    ' nftables without counters',
    ' libnftnl version 1.2.3',
    ' VRRP check unicast_src = false',
    ' VRRP skip check advert addresses = false',
    ' VRRP strict mode = false',
    ' Max auto priority = 0',
    ' Min auto priority delay = 1000000 usecs',
    ' VRRP process priority = 0',
    " VRRP don't swap = false",
    ' VRRP realtime priority = 0',
    ' VRRP realtime limit = 10000',
    ' Checker process priority = 0',
    " Checker don't swap = false",
    ' Checker realtime priority = 0',
    ' Checker realtime limit = 10000',
    ' BFD process priority = 0',
    " BFD don't swap = false",
    ' BFD realtime priority = 0',
    ' BFD realtime limit = 10000',
    ' SNMP vrrp disabled',
    ' SNMP checker disabled',
    ' SNMP RFCv2 disabled',
    ' SNMP RFCv3 disabled',
    ' SNMP traps disabled',
    ' SNMP socket = default (unix:/var/agentx/master)',
    ' DBus disabled',
    ' DBus service name = ',
    ' Script security disabled',
    ' Default script uid:gid 0:0',
    ' vrrp_netlink_cmd_rcv_bufs = 0',
    ' vrrp_netlink_cmd_rcv_bufs_force = 0',
    ' vrrp_netlink_monitor_rcv_bufs = 0',
    ' vrrp_netlink_monitor_rcv_bufs_force = 0',
    ' process_monitor_rcv_bufs = 0',
    ' process_monitor_rcv_bufs_force = 0',
    ' lvs_netlink_cmd_rcv_bufs = 0',
    ' lvs_netlink_cmd_rcv_bufs_force = 0',
    ' lvs_netlink_monitor_rcv_bufs = 0',
    ' lvs_netlink_monitor_rcv_bufs_force = 0',
    ' rs_init_notifies = 0',
    ' no_checker_emails = 0',
    ' rx_bufs_multiples = 3',
    ' umask = 0177',
]

KEEPALIVED_SOCKPOOL = [
    ' fd_in 13 fd_out = 14',
    '   Interface = eth0',
    '   Family = IPv4',
    '   Protocol = VRRP',
    '   Type = Multicast',
    '   Rx buf size = 0',
    '   VRRP instances',
    '     VI_1 vrid 51',
    ' fd_in 15 fd_out = 16',
    '   Interface = eth0',
    '   Family = IPv4',
    '   Protocol = VRRP',
    '   Type = Unicast',
    '   Address = 192.0.2.1',
    '   Rx buf size = 0',
    '   VRRP instances',
    '     VI_2 vrid 52',
    ' fd_in 17 fd_out = 18',
    '   Interface = eth0',
    '   Family = IPv6',
    '   Protocol = VRRP',
    '   Type = Multicast',
    '   Rx buf size = 0',
    '   VRRP instances',
    '     VI_6 vrid 56',
]

KEEPALIVED_SYNC = [
    ' VRRP Sync Group = SG_1, MASTER',
    '   Num member fault 0, num member init 0',
    '   VRRP member instances :',
    '     VI_1',
    '     VI_2',
    '   Using smtp notification = no',
]


def _config():
    r = load_text(CONF.format(src="192.0.2.1", peer="192.0.2.2"))
    assert not r.fatal, r.diagnostics
    return r.config


def _snap(name, vrid, family=4, unicast=False, state=State.MASTER):
    settings = SimpleNamespace(auth_type=0, vmac_ifname="", mcast_dst=None, tracked=())
    return SimpleNamespace(name=name, vrid=vrid, family=family, interface="eth0", settings=settings,
                           unicast_peers=("192.0.2.2",) if unicast else (), state=state,
                           source="192.0.2.1" if family == 4 else "fe80::1", virtual_ipaddress=(),
                           virtual_ipaddress_excluded=())


SNAPS = [_snap("VI_1", 51), _snap("VI_2", 52, unicast=True), _snap("VI_6", 56, family=6)]


def test_global_definitions_as_keepalived_wrote_them():
    assert global_lines(_config(), libnftnl="1.2.3") == KEEPALIVED_GLOBAL


def test_global_definitions_follow_the_configuration():
    r = load_text("global_defs {\n vrrp_garp_master_delay 7\n vrrp_strict\n process_names\n"
                  " lvs_timeouts tcp 900 udp 60\n}\n")
    lines = global_lines(r.config, hostname="host1")
    for want in (" Router ID = host1", " Gratuitous ARP delay = 7", " Gratuitous ARP lower priority delay = 7",
                 " VRRP strict mode = true", " VRRP process name = keepalived_vrrp", " LVS TCP timeout = 900",
                 " LVS TCP timeout = 60"):
        assert want in lines, want


def test_sockpool_groups_instances_as_keepalived():
    fds = {"VI_1": (13, 14), "VI_2": (15, 16), "VI_6": (17, 18)}
    assert sockpool_lines(SNAPS, fds) == ["------< VRRP Sockpool >------", *KEEPALIVED_SOCKPOOL]
    # two multicast instances on one interface share keepalived's socket, listed by VRID
    two = sockpool_lines([_snap("B", 60), _snap("A", 52)], {"B": (3, 4)})
    assert two[-3:] == ["   VRRP instances", "     A vrid 52", "     B vrid 60"] and two.count(" fd_in 3 fd_out = 4") == 1


def test_sync_group_section():
    assert sync_group_lines(_config(), SNAPS, {"SG_1": State.MASTER}) == \
        ["------< VRRP Sync groups >------", *KEEPALIVED_SYNC]
    snaps = [_snap("VI_1", 51, state=State.FAULT), _snap("VI_2", 52, state=State.INIT)]
    lines = sync_group_lines(_config(), snaps, {"SG_1": State.FAULT})
    assert lines[1:3] == [" VRRP Sync Group = SG_1, FAULT", "   Num member fault 1, num member init 1"]
    assert sync_group_lines(_config(), SNAPS, {}) == []


def test_interfaces_section():
    links = [LinkView("eth0", 2, 0x1043, 1500, 1, bytes.fromhex("020000000001"), b"\xff" * 6,
                      ("192.0.2.1", "192.0.2.100"), ("fe80::1",), False),
             LinkView("lo", 1, 0x49, 65536, 772, bytes(6), bytes(6), ("127.0.0.1",), ("::1",))]
    snaps = [SimpleNamespace(**{**vars(s), "virtual_ipaddress": ("192.0.2.100",)}) for s in SNAPS]
    lines = interfaces_lines(links, snaps, _config(), {"eth0": 1796197466.967277})
    assert lines[:6] == ["------< Interfaces >------", " Name = lo", "   index = 1", "   IPv4 address = 127.0.0.1",
                         "   IPv6 address = (none)", "   State = UP, RUNNING, no broadcast, loopback, no multicast"]
    eth0 = lines[lines.index(" Name = eth0"):]
    assert eth0[2:6] == ["   IPv4 address = 192.0.2.1", "   IPv6 address = fe80::1", "   MAC = 02:00:00:00:00:01",
                         "   MAC broadcast = ff:ff:ff:ff:ff:ff"]
    assert "   State = UP, RUNNING" in eth0 and "   HW Type = ETHERNET" in eth0
    assert eth0[-5].startswith("   Not IPv6 forwarding. Last checked 1796197466.967277 (")
    assert eth0[-4:] == ["   Tracking VRRP instances :", "     VI_1, weight 0", "     VI_2, weight 0",
                         "     VI_6, weight 0"]
