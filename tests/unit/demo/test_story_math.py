"""The demo's pure parts: the client's lines, the failed-request count around an event, and
the bounds and configuration it narrates (the netns run itself is tests/integration/test_demo.py)."""

from __future__ import annotations

from keepalived_py.cli import main
from keepalived_py.demo import conf
from keepalived_py.demo.traffic import Request, first_from, last_from, outage, parse, spread


def reqs(*items: tuple[float, str]) -> list[Request]:
    """Requests that each take 0.05 s ("x": a failure)."""
    return [Request(t, who != "x", who if who != "x" else "timeout", t + 0.05) for t, who in items]


def test_parse_client_lines():
    assert parse("12.5 ok web1 12.6\n") == Request(12.5, True, "web1", 12.6)
    assert parse("13.0 fail refused 13.01") == Request(13.0, False, "refused", 13.01)
    assert parse("13.0 fail refused") == Request(13.0, False, "refused")
    for bad in ("garbage", "1.0 maybe web1 1.1", "x ok web1 1.1", "1.0 ok web1 y", "1 ok a 2 3"):
        assert parse(bad) is None, bad


def test_outage_counts_failures_until_service_is_steady_again():
    rs = reqs((0.9, "web1"), (1.0, "x"), (1.1, "x"), (1.2, "web2"), (1.3, "x"), (1.4, "web3"),
              (1.5, "web1"), (1.6, "web2"))
    o = outage(rs, t0=1.0, steady=3)
    # the lone answer at 1.2 is not service back: three in a row from 1.4 are
    assert (o.failed, o.first_ok) == (3, 1.4) and abs(o.back_after - 0.4) < 1e-9
    # a request in flight when the event happened counts when it failed; one that had
    # ended before does not (an earlier outage is not this one's)
    inflight = [Request(0.8, False, "timeout", 1.8), *reqs((1.9, "web1"), (2.0, "web2"), (2.1, "web3"))]
    assert outage(inflight, 1.0).failed == 1
    before = [Request(0.2, False, "refused", 0.25), *reqs((0.9, "web3"), (1.0, "web1"), (1.1, "web2"), (1.2, "web3"))]
    assert outage(before, 1.0).failed == 0
    # never back
    assert outage(reqs((1.0, "x"), (1.1, "x")), 1.0) == outage(reqs((1.0, "x"), (1.1, "x")), 1.0)
    assert outage(reqs((1.0, "x"), (1.1, "x")), 1.0).back_after is None


def test_outage_does_not_count_the_server_being_removed_as_service():
    rs = reqs((1.0, "web2"), (1.1, "x"), (1.2, "web1"), (1.3, "web2"), (1.4, "web3"), (1.5, "web1"),
              (1.6, "web3"))
    o = outage(rs, t0=1.0, avoid="web2")
    assert (o.failed, o.first_ok) == (1, 1.4)


def test_spread_and_firsts():
    rs = reqs((1, "web1"), (2, "web2"), (3, "x"), (4, "web1"))
    assert spread(rs) == {"web1": 2, "web2": 1, "failed": 1}
    assert last_from(rs, "web1") == 4 and last_from(rs, "web3") is None
    assert first_from(rs, "web1", after=2) == 4


def test_bounds_are_the_protocols():
    b = conf.bounds()
    assert abs(b.master_down - (3 + 156 / 256)) < 1e-9      # RFC 3768 Master_Down_Interval
    assert b.check_out == 1 + 2 * 1 + 1 and b.check_in == 2


def test_router_configs_differ_only_in_priority_and_name():
    r1, r2 = conf.router_conf("r1"), conf.router_conf("r2")
    diff = [(a, b) for a, b in zip(r1.splitlines(), r2.splitlines(), strict=True) if a != b]
    assert diff == [("    router_id r1", "    router_id r2"), ("    state MASTER", "    state BACKUP"),
                    ("    priority 150", "    priority 100")]
    assert r1.count("real_server ") == 3 and f"virtual_server {conf.VIP} 80" in r1


def test_router_configs_pass_keepalived_py_t(tmp_path):
    """What the demo runs is a valid keepalived.conf (exit 0: no error, no warning)."""
    for router in conf.ROUTERS:
        path = tmp_path / f"{router}.conf"
        path.write_text(conf.router_conf(router))
        assert main(["-t", "-f", str(path)]) == 0
