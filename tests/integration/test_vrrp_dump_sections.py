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


def test_dump_sections_as_keepalived(lab, implementation):
    need_netns()
    ka = implementation("keepalived")
    py = implementation("keepalived-py", features=("vrrp",))
    la = lab(TOPO)
    got = {}
    for name, impl in (("keepalived", ka), ("keepalived-py", py)):
        d = la.start_daemon("r1", impl, CONF.format(src=la.addr("r1"), peer=la.addr("r2")))
        # alone on the LAN: every instance MASTER after its down timer (3 s + skew)
        time.sleep(5)
        got[name] = sections(_dump(la, d, signal.SIGUSR1, "keepalived.data"))
        la.terminate(d)
        d.wait(20)
    ka_s, py_s = got["keepalived"], got["keepalived-py"]
    for section in SECTIONS:
        assert section in ka_s, section
        assert normalised(py_s.get(section, [])) == normalised(ka_s[section]), section
    # the order of keepalived's sections is kept (ours, VRRP Sockets, sits before Interfaces)
    order = [s for s in py_s if s in ka_s]
    assert order == [s for s in ka_s if s in py_s], (list(ka_s), list(py_s))
