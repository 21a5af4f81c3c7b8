"""Backend choice and the DR/TUN warnings: what the check child logs at start."""

from __future__ import annotations

import asyncio
import ipaddress
import logging

import pytest

from keepalived_py.config.loader import load_text
from keepalived_py.lvs.diff import AddDest, AddService
from keepalived_py.lvs.kernel import NetlinkIpvs
from keepalived_py.lvs.plan import desired_table
from keepalived_py.lvs.table import PROTO_TCP, Destination, DestKey, Service, ServiceKey
from keepalived_py.lvs.userspace import port as uport
from keepalived_py.lvs.userspace.port import UserspaceIpvs, choose_backend, forwarding_warnings

CONF = """virtual_server 192.0.2.1 80 {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server 198.51.100.1 80 {
        weight 1
    }
    real_server 198.51.100.2 80 {
        lvs_method NAT
    }
}
"""


def test_prefer_and_environment_pick_the_backend(monkeypatch):
    monkeypatch.setattr(uport, "_chosen", [])
    monkeypatch.delenv("KPY_IPVS_BACKEND", raising=False)
    assert isinstance(choose_backend("userspace"), UserspaceIpvs)
    assert isinstance(choose_backend("kernel"), NetlinkIpvs)
    monkeypatch.setenv("KPY_IPVS_BACKEND", "userspace")
    assert isinstance(choose_backend(None), UserspaceIpvs)
    with pytest.raises(ValueError):
        choose_backend("ebpf")


def test_automatic_choice_follows_the_probe_and_is_logged_once(monkeypatch, caplog):
    monkeypatch.setattr(uport, "_chosen", [])
    monkeypatch.delenv("KPY_IPVS_BACKEND", raising=False)
    monkeypatch.setattr(uport, "kernel_has_ipvs", lambda: False)
    with caplog.at_level(logging.INFO, logger="keepalived"):
        assert isinstance(choose_backend(None), UserspaceIpvs)
        monkeypatch.setattr(uport, "kernel_has_ipvs", lambda: True)
        assert isinstance(choose_backend(None), NetlinkIpvs)
    lines = [r.getMessage() for r in caplog.records if "IPVS backend" in r.getMessage()]
    assert lines == ["IPVS backend: userspace (the kernel has no IPVS)"]


def test_kernel_probe_answers_without_raising():
    assert uport.kernel_has_ipvs() in (True, False)


def test_dr_real_servers_are_named_with_file_and_line():
    config = load_text(CONF).config
    assert forwarding_warnings(config) == [
        "keepalived.conf:5: real_server 198.51.100.1 80 uses DR; the userspace dataplane serves it as NAT"]
    table = desired_table(config)
    assert len(table) == 1


def test_a_dr_destination_is_served_as_nat_after_one_warning(caplog):
    async def main() -> None:
        p = UserspaceIpvs()
        key = ServiceKey(4, PROTO_TCP, ipaddress.ip_address("192.0.2.1"), 0)      # port 0: not served
        dest = Destination(DestKey(ipaddress.ip_address("198.51.100.1"), 0), fwd=3)
        with caplog.at_level(logging.WARNING, logger="keepalived"):
            assert await p.apply([AddService(Service(key)), AddDest(key, dest)]) == []
            await p.apply([])
        await p.close()
    asyncio.run(main())
    msgs = [r.getMessage() for r in caplog.records]
    assert sum("DR/TUN; served as NAT" in m for m in msgs) == 1
    assert sum("no port (all ports)" in m for m in msgs) == 1


def test_the_check_child_names_dr_real_servers_at_start(monkeypatch, caplog):
    from keepalived_py.check import daemon
    from keepalived_py.core.context import ChildContext
    from keepalived_py.core.options import parse_args

    # port 0 (all ports, persistent): kept in the table but not listened on
    result = load_text(CONF.replace("192.0.2.1 80 {", "192.0.2.1 0 {\n    persistence_timeout 60"))
    assert not result.fatal
    port = UserspaceIpvs()
    monkeypatch.setattr(daemon, "make_port", lambda prefer, log: port)

    async def main() -> None:
        ctx = ChildContext(role="check", options=parse_args([]), config=result.config,
                           log=logging.getLogger("keepalived.t"), pid_file="/nonexistent")
        task = asyncio.ensure_future(daemon.run(ctx))
        for _ in range(200):
            if (await port.dump()).services:
                break
            await asyncio.sleep(0)
        ctx.request_stop()
        assert await task == 0
    with caplog.at_level(logging.WARNING):
        asyncio.run(main())
    assert [r.getMessage() for r in caplog.records if "uses DR" in r.getMessage()] == [
        "keepalived.conf:6: real_server 198.51.100.1 80 uses DR; the userspace dataplane serves it as NAT"]
