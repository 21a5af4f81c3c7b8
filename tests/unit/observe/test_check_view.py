"""The check child's part of the state view (observe/check.py), its metrics
(observe/check_metrics.py) and --status rows, and the IPVS counters from both backends
(observe/ipvs_counters.py). A CheckRuntime over the recording IPVS fake with a fake clock and
probes that take a known time; metrics parsed back with prometheus_client's text parser."""

from __future__ import annotations

import asyncio
import ipaddress
import struct

from prometheus_client.parser import text_string_to_metric_families

from keepalived_py.check.result import Result, Status
from keepalived_py.lvs import netlink as nl
from keepalived_py.lvs.table import DestKey, Service, ServiceKey
from keepalived_py.lvs.userspace.balancer import Counters, DestStats, ServiceStats
from keepalived_py.observe import ipvs_counters
from keepalived_py.observe.check import check_view
from keepalived_py.observe.metrics import exposition
from keepalived_py.observe.status import status_table
from tests.unit.check.test_runtime import Harness, conf

VS = "[192.0.2.1]:tcp:80"
RS10 = "[198.51.100.10]:tcp:80"
RS11 = "[198.51.100.11]:tcp:80"


def _samples(view) -> dict[tuple[str, tuple], float]:
    out = {}
    for fam in text_string_to_metric_families(exposition(view).decode()):
        for s in fam.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _slow_probes(h: Harness, took: float):
    """Probes answering from h.probes.up that take `took` seconds of the fake clock."""
    def probe_for(kind):
        async def probe(target, params) -> Result:
            h.clock.advance(took)
            ok = h.probes.up.get(target.address, True)
            return Result(Status.OK if ok else Status.FAILED, "" if ok else "connection refused")
        return probe
    return probe_for


COUNTERS = [{"service": "TCP 192.0.2.1:80", "conns": 5, "inpkts": 50, "outpkts": 40, "inbytes": 5000,
             "outbytes": 9000, "destinations": [
                 {"destination": "198.51.100.10:80", "conns": 3, "inpkts": 30, "outpkts": 20, "inbytes": 3000,
                  "outbytes": 6000, "active": 1, "inactive": 2, "persistent": 0}]}]


def test_real_server_down_and_back_in_view_metrics_and_status():
    async def main():
        h = Harness()
        h.rt.probe_for = _slow_probes(h, 0.25)
        await h.rt.start(conf())
        await h.step(1.0)
        up_view = check_view(h.rt, COUNTERS)
        h.probes.up["198.51.100.11"] = False
        await h.step(5.0)
        down_view = check_view(h.rt, None)
        await h.rt.stop()
        return up_view, down_view
    up_view, down_view = asyncio.run(main())

    vs = up_view["virtual_servers"][0]
    assert vs["name"] == VS and vs["quorum_up"] and vs["weight_sum"] == 5
    rs11 = [r for r in vs["real_servers"] if r["name"] == RS11][0]
    assert rs11["alive"] and rs11["weight"] == 2 and rs11["configured_weight"] == 2 and rs11["in_table"]
    assert rs11["checkers"] == [{"kind": "TCP", "up": True, "latency": 0.25, "latency_sum": 0.25, "probes": 1}]

    s = _samples({"vrrp": None, "check": up_view, "parent": {}})
    assert s[("keepalived_up", ())] == 1   # a check-only daemon is up
    rs = (("real_server", RS11), ("virtual_server", VS))
    assert s[("keepalived_check_real_server_up", rs)] == 1
    assert s[("keepalived_check_real_server_weight", rs)] == 2
    assert s[("keepalived_check_real_server_in_ipvs", rs)] == 1
    lat = tuple(sorted((*rs, ("checker", "TCP"))))
    assert s[("keepalived_check_latency_seconds_count", lat)] == 1
    assert s[("keepalived_check_latency_seconds_sum", lat)] == 0.25
    assert s[("keepalived_check_last_latency_seconds", lat)] == 0.25
    assert s[("keepalived_check_virtual_server_quorum_up", (("virtual_server", VS),))] == 1
    assert s[("keepalived_check_virtual_server_weight_sum", (("virtual_server", VS),))] == 5
    svc = (("service", "TCP 192.0.2.1:80"),)
    assert s[("keepalived_ipvs_service_connections_total", svc)] == 5
    assert s[("keepalived_ipvs_service_bytes_total", (("direction", "out"), *svc))] == 9000
    dst = (("destination", "198.51.100.10:80"), *svc)
    assert s[("keepalived_ipvs_destination_packets_total", (dst[0], ("direction", "in"), dst[1]))] == 30
    assert s[("keepalived_ipvs_destination_active_connections", dst)] == 1
    assert s[("keepalived_ipvs_destination_inactive_connections", dst)] == 2

    vs = down_view["virtual_servers"][0]
    rs11 = [r for r in vs["real_servers"] if r["name"] == RS11][0]
    assert not rs11["alive"] and not rs11["in_table"] and rs11["failed_checkers"] == 1
    assert rs11["checkers"][0]["up"] is False and rs11["checkers"][0]["probes"] == 2
    assert vs["weight_sum"] == 3
    s = _samples({"vrrp": None, "check": down_view, "parent": {}})
    assert s[("keepalived_check_real_server_up", rs)] == 0
    assert s[("keepalived_check_real_server_in_ipvs", rs)] == 0
    assert s[("keepalived_check_latency_seconds_count", lat)] == 2
    assert not [k for k in s if k[0].startswith("keepalived_ipvs_")]

    table = status_table({"vrrp": None, "check": down_view, "parent": {}}, 0.0)
    lines = table.splitlines()
    assert lines[0].split() == ["VIRTUAL", "SERVER", "QUORUM", "REAL", "SERVER", "HEALTH", "WEIGHT", "IPVS",
                                "CHECKERS"]
    assert lines[1].split() == [VS, "up", "(3/1)", RS10, "up", "3", "in", "TCP:up"]
    assert lines[2].split() == [RS11, "DOWN", "2", "-", "TCP:down"]
    assert "no VRRP child" not in table


def test_no_check_answer_means_no_check_series_and_the_vrrp_table_alone():
    s = _samples({"vrrp": None, "check": None, "parent": {}})
    assert not [k for k in s if k[0].startswith(("keepalived_check_", "keepalived_ipvs_"))]
    assert "(no VRRP child running)" in status_table({"vrrp": None, "check": None}, 0.0)


def _nest(kind: int, *attrs: bytes) -> bytes:
    return nl.nla(kind | 0x8000, b"".join(attrs))


def _stats64(kind: int, values: tuple[int, ...]) -> bytes:
    return _nest(kind, *(nl.nla(i, struct.pack("=Q", v)) for i, v in enumerate(values, 1)))


def test_kernel_counters_from_the_stats64_nests_and_the_older_stats():
    svc = Service(ServiceKey(4, 6, ipaddress.ip_address("192.0.2.1"), 80), "wrr")
    inner = nl.parse_attrs(nl.service_attrs(svc))[nl.CMD_ATTR_SERVICE]
    svc_attrs = _nest(nl.CMD_ATTR_SERVICE, inner, _stats64(ipvs_counters.SVC_STATS64, (7, 70, 60, 7000, 12000)))
    dkey = DestKey(ipaddress.ip_address("198.51.100.10"), 80)
    dinner = nl.parse_attrs(nl.dest_attrs(dkey))[nl.CMD_ATTR_DEST]
    # the older nest: conns and packets as u32, bytes as u64
    old = _nest(ipvs_counters.DEST_STATS, nl.nla(1, struct.pack("=I", 4)), nl.nla(2, struct.pack("=I", 40)),
                nl.nla(3, struct.pack("=I", 30)), nl.nla(4, struct.pack("=Q", 4000)),
                nl.nla(5, struct.pack("=Q", 2 ** 33)))
    dest_attrs = _nest(nl.CMD_ATTR_DEST, dinner, old, nl.nla(ipvs_counters.DEST_ACTIVE_CONNS, struct.pack("=I", 2)),
                       nl.nla(ipvs_counters.DEST_INACT_CONNS, struct.pack("=I", 1)))
    got = ipvs_counters.from_netlink([(svc_attrs, [dest_attrs])])
    assert got == [{"service": "TCP 192.0.2.1:80", "conns": 7, "inpkts": 70, "outpkts": 60, "inbytes": 7000,
                    "outbytes": 12000, "destinations": [
                        {"destination": "198.51.100.10:80", "conns": 4, "inpkts": 40, "outpkts": 30,
                         "inbytes": 4000, "outbytes": 2 ** 33, "active": 2, "inactive": 1, "persistent": 0}]}]


def test_userspace_counters_and_read_picks_the_backend():
    key = ServiceKey(4, 6, ipaddress.ip_address("192.0.2.1"), 80)
    stats = [ServiceStats(key, Counters(2, 3, 4, 5, 6), (
        DestStats(DestKey(ipaddress.ip_address("198.51.100.10"), 80), 1, 0, 0, Counters(2, 3, 4, 5, 6)),))]

    class Userspace:
        def stats(self):
            return stats

    class Plain:  # a port keeping no counters (a test double)
        async def dump(self):
            return None

    assert asyncio.run(ipvs_counters.read(Userspace())) == ipvs_counters.from_userspace(stats) == [
        {"service": "TCP 192.0.2.1:80", "conns": 2, "inpkts": 3, "outpkts": 4, "inbytes": 5, "outbytes": 6,
         "destinations": [{"destination": "198.51.100.10:80", "conns": 2, "inpkts": 3, "outpkts": 4,
                           "inbytes": 5, "outbytes": 6, "active": 1, "inactive": 0, "persistent": 0}]}]
    assert asyncio.run(ipvs_counters.read(Plain())) is None
