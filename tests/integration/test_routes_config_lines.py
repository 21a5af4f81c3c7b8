"""Awkward address, route and rule lines: `keepalived -t` and `keepalived-py -t` print the same
messages on the same lines, in the same order (numbers, names, prefixes, encaps, nexthops,
"or", rule selectors and actions). Only `dev lo` is named, so no namespace is needed."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.envcheck import keepalived_binary, need_root

pytestmark = [pytest.mark.root, pytest.mark.keepalived]

ROUTES = """
 192.0.2.0/33 dev lo
 192.0.2.0/x dev lo
 bogus dev lo
 192.0.2.0/24 dev lo table -1
 192.0.2.0/24 dev lo table 4294967296
 192.0.2.0/24 dev lo table nosuch
 192.0.2.0/24 dev lo protocol nosuch
 192.0.2.0/24 dev lo protocol 256
 192.0.2.0/24 dev lo protocol bird
 192.0.2.0/24 dev lo scope 300
 192.0.2.0/24 dev lo tos 300
 192.0.2.0/24 dev lo realms a/b
 2001:db8::/64 dev lo pref 300
 2001:db8::/64 dev lo pref middle
 192.0.2.0/24 dev lo metric 4294967296
 192.0.2.0/24 dev lo mtu lock x
 192.0.2.0/24 dev lo hoplimit 300
 192.0.2.0/24 dev lo quickack x
 192.0.2.0/24 dev lo fastopen_no_cookie 2
 192.0.2.0/24 dev lo ttl-propagate maybe
 192.0.2.0/24 dev lo rtt 960001
 192.0.2.0/24 dev lo rtt 0.1
 192.0.2.0/24 dev lo rtt 1.2345s
 192.0.2.0/24 dev lo rtt 1e3
 192.0.2.0/24 dev lo rttvar 5x
 192.0.2.0/24 dev lo nexthop via 192.0.2.9 weight x
 192.0.2.0/24 dev lo nexthop via 192.0.2.9 weight 300
 192.0.2.0/24 dev lo nexthop via 2001:db8::1
 192.0.2.0/24 dev lo nexthop via inet6 2001:db8::1
 192.0.2.0/24 dev lo nexthop via bad
 192.0.2.0/24 dev lo nexthop realms x
 192.0.2.0/24 dev lo nexthop as to 1
 192.0.2.0/24 via 192.0.2.1 or 192.0.2.2 or 192.0.2.3 dev lo
 192.0.2.0/24 via 192.0.2.1 or bad dev lo
 192.0.2.0/24 via 192.0.2.1 or 192.0.2.2 nexthop via 192.0.2.3 dev lo
 192.0.2.0/24 dev lo src 2001:db8::1
 192.0.2.0/24 dev lo src bad
 192.0.2.0/24 dev lo via inet6 2001:db8::1
 192.0.2.0/24 dev lo via inet bad
 192.0.2.0/24 dev lo from 2001:db8::/64
 2001:db8::/64 dev lo from 2001:db8::/129
 192.0.2.0/24 dev lo initrwnd -5
 192.0.2.0/24 dev lo as to 10
 0x5 192.0.2.0/24 dev lo
 192.0.2.0/24 dev lo features sack
 192.0.2.0/24 192.0.2.128/25 dev lo
 default dev lo expires 10
 192.0.2.0/24 via 192.0.2.9
 192.0.2.0/24 dev lo encap ip id x dst 192.0.2.8
 192.0.2.0/24 dev lo encap ip dst 192.0.2.8 tos zz
 192.0.2.0/24 dev lo encap ip dst 192.0.2.8 ttl 300
 192.0.2.0/24 dev lo encap ip dst bad
 192.0.2.0/24 dev lo encap ip ttl 3
 192.0.2.0/24 dev lo encap ip dst 192.0.2.8 flags 70000
 2001:db8::/64 dev lo encap ip6 dst 2001:db8::1 tc zz
 2001:db8::/64 dev lo encap ip6 dst 2001:db8::1 hoplimit 300
 2001:db8::/64 dev lo encap ip6 id -1 dst 2001:db8::1
 encap ip6 dst 2001:db8::1 src 192.0.2.5 192.0.2.0/24 dev lo
 192.0.2.0/24 encap gre 10.0.0.1 dev lo
 192.0.2.0/24 dev lo encap mpls x
"""

RULES = """
 from 192.0.2.0/33 table 1 preference 1
 from bogus table 1 preference 1
 from 192.0.2.1 table 1 preference 0x10
 from 192.0.2.1 table 1 preference -1
 from 192.0.2.1 table 1 preference 1 fwmark 0x10/
 from 192.0.2.1 table 1 preference 1 fwmark 5/-1
 from 192.0.2.1 table 1 preference 1 fwmark 99999999999
 from 192.0.2.1 table 1 preference 1 tos 300
 from 192.0.2.1 table 1 preference 1 realms 70000
 from 192.0.2.1 table 1 preference 1 sup_pl 2147483648
 from 192.0.2.1 table 1 preference 1 suppress_ifgroup nosuch
 from 192.0.2.1 table 1 preference 1 tunnel-id 18446744073709551616
 from 192.0.2.1 table 1 preference 1 uidrange 5
 from 192.0.2.1 table 1 preference 1 ipproto 300
 from 192.0.2.1 table 1 preference 1 ipproto 12abc
 from 192.0.2.1 table 1 preference 1 sport 5
 from 192.0.2.1 table 1 preference 1 dport 70000-80000
 from 192.0.2.1 table 1 preference 1 protocol 5
 from 192.0.2.1 table 1 preference 1 protocol x
 from 192.0.2.1 goto x preference 1
 from 192.0.2.1 goto 5 preference 10
 from 192.0.2.1 type 300 preference 1
 from 192.0.2.1 type 6 preference 1
 from 192.0.2.1 local preference 1
 from 192.0.2.1 table 1 l3mdev preference 1
 from 192.0.2.1 l3mdev realms 1 preference 1
 from 192.0.2.1 realms 1 blackhole preference 1
 from 192.0.2.1 table 1 inet6 preference 1
 inet6 from 192.0.2.1 table 1 preference 1
 from 192.0.2.1 to 2001:db8::1 table 1 preference 1
 from 2001:db8::1 realms 1 table 1 preference 1
 iif lo table 1
 from 2001:db8::2 table 1
 iif lo table 2
 from 192.0.2.1 table 1 preference 1 nop
 from 192.0.2.1 preference 1
"""

ADDRESSES = """
 192.0.2.1/24 dev lo peer bad
 192.0.2.1/24 dev lo brd bad
 192.0.2.1/24 dev lo scope nosuch
 192.0.2.1/24 dev lo scope 300
 192.0.2.1/24 dev lo preferred_lft -1
 192.0.2.1/24 dev lo label 0123456789abcdefg
 bad/24 dev lo
 192.0.2.1/33 dev lo
 192.0.2.1/24 dev lo bogus
"""

_LINE = re.compile(r"\((?:.*/)?edge\.conf: Line (\d+)\) (.*)")


def messages(argv: list[str]) -> list[tuple[int, str]]:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=60)
    return [(int(m.group(1)), m.group(2)) for m in map(_LINE.search, (out.stdout + out.stderr).splitlines()) if m]


@pytest.mark.parametrize("block,body", [("static_routes", ROUTES), ("static_rules", RULES),
                                        ("static_ipaddress", ADDRESSES)])
def test_route_rule_address_lines_as_keepalived_t(tmp_path: Path, block: str, body: str):
    need_root()
    binary = keepalived_binary()
    conf = tmp_path / "edge.conf"
    conf.write_text(f"{block} {{{body}}}\n")
    ref = messages([binary, "-t", "-l", "-f", str(conf)])
    ours = messages([sys.executable, "-m", "keepalived_py.cli", "-t", "-f", str(conf)])
    assert len(ref) > 10  # keepalived read it all and complained as expected
    assert ours == ref
