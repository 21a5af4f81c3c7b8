"""dynamic_interfaces (vrrpd/dynamic_if.py): an instance whose interface is missing at start
waits in FAULT and runs once the interface exists, is up and has an address; deleted, it
faults; re-created, it runs again on the new index. The state sequence is keepalived
2.2.7's FIFO for the same steps in a netns (FAULT, BACKUP, MASTER, FAULT, BACKUP, MASTER).
Without dynamic_interfaces the instance is left out, as before."""

from __future__ import annotations

import logging
from ipaddress import ip_address, ip_interface

from keepalived_py.config import load_text
from keepalived_py.net.ports import AddressEvent, LinkEvent
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.dynamic_if import dynamic_notes
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.unit.vrrpd.test_runtime import LOG, Rig, run

CONF = """
global_defs {{
    {dynamic}
}}
vrrp_instance VI_1 {{
    interface eth5
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {{
        192.0.2.10/32
    }}
}}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52
    priority 100
    advert_int 1
    virtual_ipaddress {{
        192.0.2.11/32
    }}
}}
"""


class Notes:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def handle(self, act) -> None:
        if act.name == "VI_1":
            self.seen.append(act.state)


async def started(dynamic: str) -> tuple[Rig, Notes]:
    r = Rig()
    notes = Notes()
    r.rt = VrrpRuntime(r.net, r.clock, LOG, sender=r.sender, socket_opener=r.opener, scheduler=r.sched,
                       vmac_sysctls=r.sysctls, notifier=notes)
    await r.rt.start(load_text(CONF.format(dynamic=dynamic)).config)
    await r.settle()
    return r, notes


def test_waits_in_fault_then_runs_and_follows_delete_and_recreate(caplog):
    caplog.set_level(logging.INFO, logger=LOG.name)

    async def go():
        r, notes = await started("dynamic_interfaces")
        vi1 = r.rt.by_name["VI_1"]
        steps = [(vi1.machine.state, vi1.rx is None)]
        r.net.add_link("eth5", up=False, addrs=("192.0.2.4/24",))
        r.net.set_link("eth5", up=True)
        await r.advance(0.1)
        steps.append((vi1.machine.state, r.opener.by_if("eth5").closed))
        await r.advance(4)
        steps.append((vi1.machine.state, bool(r.adverts("eth5"))))
        first = r.net.links.pop("eth5")
        r.net._events.put_nowait(LinkEvent("eth5", first.index, False, deleted=True))
        await r.advance(0.1)
        steps.append((vi1.machine.state, None))
        r.net.add_link("eth5", up=False, addrs=("192.0.2.4/24",))
        r.net.set_link("eth5", up=True)
        await r.advance(0.1)
        await r.advance(4)
        steps.append((vi1.machine.state, r.opener.by_if("eth5").ifindex != first.index))
        return steps, notes.seen
    steps, seen = run(go())
    assert steps == [(State.FAULT, True), (State.BACKUP, False), (State.MASTER, True), (State.FAULT, None),
                     (State.MASTER, True)]
    assert seen == ["FAULT", "BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER"]
    said = [r.getMessage() for r in caplog.records if "doesn't currently exist" in r.getMessage()]
    assert said == ["Configuration specifies interface eth5 which doesn't currently exist - will use if created"]


def test_up_without_an_address_waits_for_one():
    async def go():
        r, _notes = await started("dynamic_interfaces")
        vi1 = r.rt.by_name["VI_1"]
        r.net.add_link("eth5")
        r.net.set_link("eth5", up=True)
        await r.advance(0.1)
        before = (vi1.machine.state, vi1.waiting)
        r.net.addrs["eth5"].append(ip_interface("192.0.2.4/24"))
        await r.rt.on_address_event(AddressEvent("eth5", ip_address("192.0.2.4"), True))
        await r.advance(0.1)
        return before, (vi1.machine.state, vi1.waiting)
    assert run(go()) == ((State.FAULT, True), (State.BACKUP, False))


def test_without_dynamic_interfaces_the_instance_is_left_out():
    async def go():
        r, _notes = await started("")
        return sorted(r.rt.by_name)
    assert run(go()) == ["VI_2"]


def test_allow_if_changes_is_said_once_at_start():
    config = load_text(CONF.format(dynamic="dynamic_interfaces allow_if_changes")).config
    (note,) = dynamic_notes(config)
    assert note.startswith("dynamic_interfaces allow_if_changes: keepalived-py does not compare")
    assert dynamic_notes(load_text(CONF.format(dynamic="dynamic_interfaces")).config) == []


def test_a_vmac_on_a_missing_base_is_left_out_with_a_line(caplog):
    caplog.set_level(logging.INFO, logger=LOG.name)
    text = CONF.format(dynamic="dynamic_interfaces").replace("    interface eth5\n", "    interface eth5\n    use_vmac\n")

    async def go():
        r = Rig()
        r.rt = VrrpRuntime(r.net, r.clock, LOG, sender=r.sender, socket_opener=r.opener, scheduler=r.sched,
                           vmac_sysctls=r.sysctls)
        await r.rt.start(load_text(text).config)
        await r.settle()
        return sorted(r.rt.by_name), r.net.ops("add_macvlan")
    names, made = run(go())
    assert names == ["VI_2"] and made == []
    assert any("(VI_1) interface eth5 not found - instance ignored (dynamic_interfaces" in r.getMessage()
               for r in caplog.records)


def test_dash_t_no_longer_lists_dynamic_interfaces():
    result = load_text(CONF.format(dynamic="dynamic_interfaces allow_if_changes"))
    assert not [x for x in result.not_implemented if "dynamic_interfaces" in x]
