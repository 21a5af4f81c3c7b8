"""Link-local IPv6 sessions: the scope (interface) a fe80:: neighbour's packets need, from
/proc/net/if_inet6's text: the interface holding source_ip, else the only one with a
link-local address; an error (the instance is disabled and retried) when it is ambiguous."""

from __future__ import annotations

import errno
import ipaddress

import pytest

from keepalived_py.bfd.sockets import destination, link_local_table, pick_scope

IF_INET6 = """\
00000000000000000000000000000001 01 80 10 80       lo
fe80000000000000a8c0fffe00000001 02 40 20 80     eth0
20010db8000000010000000000000001 02 40 00 80     eth0
fe80000000000000a8c0fffe00000002 03 40 20 80     eth1
"""

ip = ipaddress.ip_address


def test_table_keeps_link_scope_addresses():
    assert link_local_table(IF_INET6 + "garbage\n") == [
        (ip("fe80::a8c0:fffe:0:1"), 2, "eth0"), (ip("fe80::a8c0:fffe:0:2"), 3, "eth1")]


def test_scope_is_the_source_ip_interface():
    table = link_local_table(IF_INET6)
    assert pick_scope(table, ip("fe80::9"), ip("fe80::a8c0:fffe:0:2")) == 3
    assert pick_scope(table, ip("fe80::9"), ip("fe80::a8c0:fffe:0:1")) == 2
    with pytest.raises(OSError) as e:
        pick_scope(table, ip("fe80::9"), ip("fe80::77"))
    assert e.value.errno == errno.ENODEV


def test_without_source_ip_only_one_interface_will_do():
    table = link_local_table(IF_INET6)
    with pytest.raises(OSError, match="exactly one interface"):
        pick_scope(table, ip("fe80::9"), None)
    assert pick_scope(table[:1], ip("fe80::9"), None) == 2


def test_other_neighbours_need_no_scope():
    assert pick_scope([], ip("2001:db8::9"), None) == 0
    assert pick_scope([], ip("192.0.2.9"), None) == 0
    assert destination(ip("192.0.2.9"), 3784) == ("192.0.2.9", 3784)
    assert destination(ip("fe80::9"), 3784, 3) == ("fe80::9", 3784, 0, 3)
