"""keepalived.data's Global definitions, VRRP Sockpool, VRRP Sync groups and Interfaces
sections, keepalived-py beside real keepalived 2.2.7 on the same configuration (lab).

Each implementation runs the same configuration alone in its own router namespace (two
instances on eth0 in a sync group, one IPv6 instance, unicast peers for one), is dumped
with SIGUSR1 once settled, and each of these sections is compared line by line after the
values that differ between any two runs are normalised: interface indexes, MAC addresses,
socket file descriptors, link-local addresses, the build's nftables library version.
"""

from __future__ import annotations

import re
import signal
import time

import pytest

from tests.envcheck import need_netns
from tests.integration.test_vrrp_dump_fields import _dump

pytestmark = [pytest.mark.root]

TOPO = """
bridge lan 192.0.2.0/24 2001:db8:1::/64
router r1 lan
router r2 lan
"""

CONF = """global_defs {{
    router_id r1
    vrrp_garp_master_delay 3
    vrrp_garp_master_repeat 2
}}
vrrp_sync_group SG_1 {{
    group {{
        VI_1
        VI_2
    }}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 51
    priority 150
    advert_int 1
    virtual_ipaddress {{
        192.0.2.100/24
    }}
}}
vrrp_instance VI_2 {{
    state BACKUP
    interface eth0
    virtual_router_id 52
    priority 150
    advert_int 1
    unicast_src_ip {src}
    unicast_peer {{
        {peer}
    }}
    virtual_ipaddress {{
        192.0.2.101/24
    }}
}}
vrrp_instance VI_6 {{
    state BACKUP
    interface eth0
    virtual_router_id 56
    priority 150
    advert_int 1
    virtual_ipaddress {{
        2001:db8:1::100/64
    }}
}}
"""

#: global_defs and sync group keywords that change those sections' lines
RICH = CONF.replace("""    vrrp_garp_master_repeat 2
}}""", """    vrrp_garp_master_repeat 2
    process_names
    notification_email {{
        ops@example.com
    }}
    notification_email_from ka@example.com
    smtp_server 192.0.2.250 2525
    smtp_connect_timeout 7
    smtp_alert_vrrp true
    checker_log_all_failures
    lvs_timeouts tcp 900 tcpfin 30 udp 60
    lvs_flush_on_stop VS
    dynamic_interfaces
    vrrp_garp_lower_prio_repeat 4
    vrrp_garp_master_refresh 60
    vrrp_lower_prio_no_advert
    vrrp_higher_prio_send_advert
    vrrp_garp_interval 0.01
    vrrp_version 3
    vrrp_check_unicast_src
    max_auto_priority 20
    vrrp_no_swap
    checker_priority -5
    vrrp_rx_bufs_policy MTU
    vrrp_rx_bufs_multiplier 4
    enable_traps
    umask 0022
    log_unknown_vrids
    vmac_prefix vx
    script_user root
    enable_script_security
    no_email_faults
}}""").replace("""        VI_2
    }}
}}""", """        VI_2
    }}
    smtp_alert false
    notify_priority_changes true
    sync_group_tracking_weight
    track_interface {{
        eth0 weight 5
    }}
    track_script {{
        chk_true
    }}
    notify_master "/bin/echo master"
    notify /bin/true
}}
vrrp_script chk_true {{
    script /bin/true
    interval 2
    weight -10
}}""")

SECTIONS = ("Global definitions", "VRRP Sockpool", "VRRP Sync groups", "Interfaces")


def sections(text: str) -> dict[str, list[str]]:
    """keepalived.data split at its '------< NAME >------' headers."""
    out: dict[str, list[str]] = {}
    current = None
    for line in text.splitlines():
        m = re.fullmatch(r"------< (.*) >------", line)
        if m:
            current = m[1]
            out[current] = []
        elif current is not None:
            out[current].append(line)
    return out


NORMALISE = (
    (re.compile(r"fd_in \d+ fd_out = \d+"), "fd_in N fd_out = N"),
    (re.compile(r"^(   index = )\d+$"), r"\1N"),
    (re.compile(r"^(   MAC = ).*$"), r"\1MAC"),
    (re.compile(r"^(   IPv6 address = )fe80:.*$"), r"\1LINKLOCAL"),
    (re.compile(r"(IPv6 forwarding\. Last checked ).*$"), r"\1TIME"),
    (re.compile(r"^( libnftnl version ).*$"), r"\1VERSION"),
)


def normalised(lines: list[str]) -> list[str]:
    out = []
    for line in lines:
        for pattern, repl in NORMALISE:
            line = pattern.sub(repl, line)
        out.append(line)
    return out


@pytest.mark.parametrize("conf", [CONF, RICH], ids=["defaults", "options"])
def test_dump_sections_as_keepalived(lab, implementation, conf):
    need_netns()
    ka = implementation("keepalived")
    py = implementation("keepalived-py", features=("vrrp",))
    la = lab(TOPO)
    vips = la.watch_addresses(["r1"])
    got = {}
    for name, impl in (("keepalived", ka), ("keepalived-py", py)):
        t0 = time.monotonic()
        d = la.start_daemon("r1", impl, conf.format(src=la.addr("r1"), peer=la.addr("r2")))
        # alone on the LAN: every instance MASTER after its down timer (3 s + skew)
        for ip in ("192.0.2.100", "192.0.2.101", "2001:db8:1::100"):
            assert vips.wait_for(ip, node="r1", after=t0, timeout=30) is not None, (name, ip)
        time.sleep(1)
        got[name] = sections(_dump(la, d, signal.SIGUSR1, "keepalived.data"))
        la.terminate(d)
        d.wait(20)
        for ip in ("192.0.2.100", "192.0.2.101", "2001:db8:1::100"):   # released before the next
            assert vips.wait_for(ip, node="r1", added=False, after=t0, timeout=20) is not None, (name, ip)
    ka_s, py_s = got["keepalived"], got["keepalived-py"]
    for section in SECTIONS:
        assert section in ka_s, section
        assert normalised(py_s.get(section, [])) == normalised(ka_s[section]), section
    # the order of keepalived's sections is kept (ours, VRRP Sockets, sits before Interfaces)
    order = [s for s in py_s if s in ka_s]
    assert order == [s for s in ka_s if s in py_s], (list(ka_s), list(py_s))
