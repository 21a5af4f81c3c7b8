"""The notify order at start, as keepalived 2.2.7 writes its FIFO: every instance already in
FAULT (its own fault, or its sync group's) first, in config order (vrrp_complete_init), then
the sync groups in BACKUP or FAULT (vrrp_init_state), then the other instances. The expected
sequences are keepalived 2.2.7's FIFO lines for the same configs in a netns (a member's
tracked interface down at start)."""

from __future__ import annotations

from keepalived_py.config import load_text
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.unit.vrrpd.test_runtime import LOG, Rig, run


def inst(name: str, vrid: int, track: bool) -> str:
    tracked = "    track_interface {\n        eth2\n    }\n" if track else ""
    return (f"vrrp_instance {name} {{\n    interface eth0\n    virtual_router_id {vrid}\n    priority 100\n"
            f"{tracked}    virtual_ipaddress {{\n        192.0.2.{vrid}/32\n    }}\n}}\n")


def group(*members: str) -> str:
    return "vrrp_sync_group G1 {\n    group {\n" + "".join(f"        {m}\n" for m in members) + "    }\n}\n"


class Notes:
    def __init__(self) -> None:
        self.seen: list[str] = []

    def handle(self, act) -> None:
        self.seen.append(f'{act.kind} "{act.name}" {act.state}')


def start_notifies(text: str) -> list[str]:
    async def go() -> list[str]:
        r = Rig()
        r.net.add_link("eth2", up=False)
        notes = Notes()
        r.rt = VrrpRuntime(r.net, r.clock, LOG, sender=r.sender, socket_opener=r.opener, scheduler=r.sched,
                           vmac_sysctls=r.sysctls, notifier=notes)
        await r.rt.start(load_text(text).config)
        await r.settle()
        return notes.seen
    return run(go())


def test_a_group_in_fault_at_start_notifies_after_its_members():
    # the second member tracks the down interface; the group lists it first
    text = group("VI_2", "VI_1") + inst("VI_1", 51, False) + inst("VI_2", 52, True)
    assert start_notifies(text) == ['INSTANCE "VI_1" FAULT', 'INSTANCE "VI_2" FAULT', 'GROUP "G1" FAULT']


def test_a_faulted_instance_notifies_before_a_backup_group():
    text = group("VI_1", "VI_2") + inst("VI_1", 51, False) + inst("VI_2", 52, False) + inst("VI_0", 50, True)
    assert start_notifies(text) == ['INSTANCE "VI_0" FAULT', 'GROUP "G1" BACKUP', 'INSTANCE "VI_1" BACKUP',
                                    'INSTANCE "VI_2" BACKUP']
