"""The userspace IPVS table, pure: the kernel's refusals, connection counts through a
connection's life, persistence templates, counters, and the table it dumps."""

from __future__ import annotations

import errno
import ipaddress

from keepalived_py.lvs.diff import (
    AddDest,
    AddService,
    DelDest,
    DelService,
    SetDest,
    SetService,
    apply,
    diff,
)
from keepalived_py.lvs.table import (
    PROTO_TCP,
    PROTO_UDP,
    SVC_F_PERSISTENT,
    Destination,
    DestKey,
    Service,
    ServiceKey,
    Table,
)
from keepalived_py.lvs.userspace.balancer import Balancer, client_net

A = ipaddress.ip_address
KEY = ServiceKey(4, PROTO_TCP, A("127.0.0.1"), 8080)
R1, R2 = DestKey(A("127.0.0.2"), 80), DestKey(A("127.0.0.3"), 80)


def balancer(sched: str = "wlc", flags: int = 0, timeout: int = 0, netmask: int = 0xFFFFFFFF) -> Balancer:
    b = Balancer()
    assert b.apply([AddService(Service(KEY, sched, flags, timeout, netmask)),
                    AddDest(KEY, Destination(R1)), AddDest(KEY, Destination(R2))]) == []
    return b


def test_refusals_are_the_kernels():
    b = balancer()
    got = b.apply([AddService(Service(KEY)), AddDest(KEY, Destination(R1)), SetDest(KEY, Destination(DestKey(A("127.0.0.9")))),
                   DelDest(KEY, DestKey(A("127.0.0.9"))), DelService(ServiceKey(4, PROTO_UDP, A("127.0.0.1"), 1)),
                   AddService(Service(ServiceKey(4, PROTO_TCP, A("127.0.0.1"), 9), "nope"))])
    assert [e for _op, e, _m in got] == [errno.EEXIST, errno.EEXIST, errno.ENOENT, errno.ENOENT, errno.ESRCH,
                                         errno.ENOENT]


def test_table_is_what_apply_gives_so_reconcile_finds_nothing_to_do():
    b = balancer()
    desired = Table.build([(Service(KEY, "rr"), [Destination(R1, weight=3), Destination(R2, weight=0)])])
    ops = diff(b.table(), desired)
    assert b.apply(ops) == []
    assert b.table() == desired == apply(Table.build([(Service(KEY), [Destination(R1), Destination(R2)])]), ops)
    assert diff(b.table(), desired) == []
    b.apply([DelService(KEY)])
    assert b.table() == Table()


def test_destinations_are_kept_newest_first_as_the_kernel_lists_them():
    b = balancer("rr")
    assert [d.key for d in b.services[KEY].dests] == [R2, R1]
    picks = [b.connect(KEY, A("127.0.0.5"), 1000 + i, A("127.0.0.1"), 0.0) for i in range(3)]
    assert [c.dest.key for c in picks if c] == [R2, R1, R2]


def test_tcp_connection_counts_inactive_active_then_linger():
    b = balancer()
    c = b.connect(KEY, A("127.0.0.5"), 1000, A("127.0.0.1"), 0.0)
    assert c is not None and c.target == ("127.0.0.3", 80)
    assert (c.dest.active, c.dest.inactive) == (0, 1)
    b.established(c)
    assert (c.dest.active, c.dest.inactive) == (1, 0)
    c.add_in(10)
    c.add_out(20)
    b.closed(c, 5.0)
    assert (c.dest.active, c.dest.inactive) == (0, 1)
    b.expire(5.0 + 119)
    assert c.dest.inactive == 1
    b.expire(5.0 + 120)
    assert c.dest.inactive == 0
    stats = {d.key: d for d in b.stats()[0].dests}
    assert stats[R2].counters.conns == 1 and stats[R2].counters.inbytes == 10 and stats[R2].counters.outbytes == 20
    assert b.stats()[0].counters.inpkts == 1 and b.stats()[0].counters.outpkts == 1


def test_refused_connection_lingers_for_ipvs_close_timeout_and_udp_not_at_all():
    b = balancer()
    c = b.connect(KEY, A("127.0.0.5"), 1000, A("127.0.0.1"), 0.0)
    assert c is not None
    b.closed(c, 0.0, failed=True)
    b.expire(9.9)
    assert c.dest.inactive == 1
    b.expire(10.0)
    assert c.dest.inactive == 0
    u = ServiceKey(4, PROTO_UDP, A("127.0.0.1"), 53)
    b.apply([AddService(Service(u, "rr")), AddDest(u, Destination(R1))])
    s = b.connect(u, A("127.0.0.5"), 1000, A("127.0.0.1"), 0.0)
    assert s is not None and (s.dest.active, s.dest.inactive) == (0, 1)
    b.closed(s, 1.0)
    assert s.dest.inactive == 0


def test_least_connection_sees_long_lived_connections():
    b = balancer("lc")
    first = [b.connect(KEY, A("127.0.0.5"), 1000 + i, A("127.0.0.1"), 0.0) for i in range(4)]
    for c in first:
        assert c is not None
        b.established(c)
    assert sorted(c.dest.key.address.packed[-1] for c in first if c) == [2, 2, 3, 3]


def test_quiesced_server_gets_no_new_connection_but_keeps_its_own():
    b = balancer("rr")
    c = b.connect(KEY, A("127.0.0.5"), 1000, A("127.0.0.1"), 0.0)
    assert c is not None and c.dest.key == R2
    b.established(c)
    b.apply([SetDest(KEY, Destination(R2, weight=0))])
    assert all(b.connect(KEY, A("127.0.0.5"), 2000 + i, A("127.0.0.1"), 0.0).dest.key == R1 for i in range(3))
    assert c.dest.active == 1
    b.apply([DelDest(KEY, R2)])
    b.closed(c, 1.0)          # a connection to a removed server still finishes cleanly
    assert c.dest.inactive == 1


def test_persistence_template_per_client_network():
    b = balancer("rr", SVC_F_PERSISTENT, timeout=60, netmask=0xFFFFFF00)
    c1 = b.connect(KEY, A("127.0.5.1"), 1000, A("127.0.0.1"), 0.0)
    c2 = b.connect(KEY, A("127.0.5.200"), 1000, A("127.0.0.1"), 1.0)
    c3 = b.connect(KEY, A("127.0.6.1"), 1000, A("127.0.0.1"), 1.0)
    assert c1 and c2 and c3 and c1.dest is c2.dest and c3.dest is not c1.dest
    assert c1.dest.persistent == 1 and (c1.dest.active, c1.dest.inactive) == (0, 2)
    b.apply([SetDest(KEY, Destination(c1.dest.key, weight=0))])
    assert b.connect(KEY, A("127.0.5.7"), 1, A("127.0.0.1"), 2.0).dest is c1.dest   # quiesced, still persistent
    for c in (c1, c2):
        b.closed(c, 3.0)
    b.expire(61.9)
    assert c1.dest.persistent == 1          # last use at 2.0 (+60)
    b.expire(200.0)                        # the third connection (2.0) is still open: template kept
    assert c1.dest.persistent == 1
    b.apply([DelDest(KEY, c1.dest.key)])
    assert b.connect(KEY, A("127.0.5.9"), 1, A("127.0.0.1"), 201.0).dest is c3.dest


def test_client_net_masks_v4_and_v6():
    assert client_net(A("10.1.2.3"), 0xFFFF0000) == A("10.1.0.0")
    assert client_net(A("2001:db8::1:2"), 64) == A("2001:db8::")


def test_changing_the_scheduler_starts_it_over_the_whole_list():
    b = balancer("rr")
    b.apply([SetService(Service(KEY, "wrr"))])
    b.apply([SetDest(KEY, Destination(R1, weight=2))])
    got = [b.connect(KEY, A("127.0.0.5"), i, A("127.0.0.1"), 0.0).dest.key for i in range(3)]
    assert got.count(R1) == 2 and got.count(R2) == 1


def test_threshold_overload_refuses_until_below_lower():
    b = Balancer()
    b.apply([AddService(Service(KEY, "rr")), AddDest(KEY, Destination(R1, u_threshold=2, l_threshold=1))])
    c1 = b.connect(KEY, A("127.0.0.5"), 1, A("127.0.0.1"), 0.0)
    c2 = b.connect(KEY, A("127.0.0.5"), 2, A("127.0.0.1"), 0.0)
    assert c1 and c2
    assert b.connect(KEY, A("127.0.0.5"), 3, A("127.0.0.1"), 0.0) is None
    b.closed(c1, 0.0, failed=True)
    b.expire(100.0)
    assert b.connect(KEY, A("127.0.0.5"), 3, A("127.0.0.1"), 100.0) is None     # 1 is not < 1
    b.closed(c2, 100.0, failed=True)
    b.expire(200.0)
    assert b.connect(KEY, A("127.0.0.5"), 3, A("127.0.0.1"), 200.0) is not None
