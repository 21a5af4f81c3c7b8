"""Queued kernel work is typed values: what each op undoes, how an error line names it, and
the runtime's queue carries nothing else."""

from __future__ import annotations

import asyncio
import logging
from ipaddress import ip_interface

import pytest

from keepalived_py.net.ports import AddressSpec
from keepalived_py.vrrp.actions import SendGarp
from keepalived_py.vrrpd.ops import (
    AddAddress,
    AddRoute,
    AddRule,
    LinkUpdate,
    RemoveAddress,
    RemoveRoute,
    RemoveRule,
    describe,
    undo,
)
from keepalived_py.vrrpd.plan import static_addresses
from tests.unit.vrrpd.test_runtime import Rig, conf

SPEC = AddressSpec("eth1", ip_interface("203.0.113.1/24"))


def test_undo_and_describe():
    assert undo(AddAddress(SPEC, "static")) == RemoveAddress(SPEC, None)
    assert undo(AddRoute("r", "static"), "x") == RemoveRoute("r", "x")  # type: ignore[arg-type]
    assert undo(AddRule("u")) == RemoveRule("u")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        undo(RemoveAddress(SPEC))  # type: ignore[arg-type]
    assert describe(AddAddress(SPEC, "VI_1")) == f"add_address {SPEC}"
    garp = SendGarp("VI_1", "eth0", (), 1)
    assert LinkUpdate(garp).owner == "VI_1" and describe(LinkUpdate(garp)).startswith("link_update ")


def test_runtime_queues_typed_ops_and_names_failures(caplog):
    async def go():
        r = Rig()

        async def refuse(spec: AddressSpec) -> None:
            raise OSError("File exists")

        r.net.add_address = refuse  # type: ignore[method-assign]
        with caplog.at_level(logging.ERROR, logger="test.vrrp_runtime"):
            rt = await r.start(conf(prio=255, more="static_ipaddress {\n    203.0.113.1/24 dev eth1\n}\n"))
        queued: list = []
        real_put = rt.kernel.put
        rt.kernel.put = lambda op: (queued.append(op), real_put(op))  # type: ignore[method-assign]
        await rt.stop()
        assert rt.counters.netlink_errors == 2  # the static address and the VIP
        lines = [rec.getMessage() for rec in caplog.records]
        assert any(x.startswith("(static) add_address AddressSpec(ifname='eth1'") and x.endswith(": File exists")
                   for x in lines), lines
        assert any(x.startswith("(VI_1) add_address AddressSpec(ifname='eth0'") for x in lines), lines
        assert queued and all(isinstance(op, (RemoveAddress, RemoveRoute, RemoveRule, LinkUpdate))
                              for op in queued)
        # static entries go last at shutdown, with no owner
        static = static_addresses(rt.config)[0]
        assert static.address == SPEC.address and queued[-1] == RemoveAddress(static, None)
    asyncio.run(go())
