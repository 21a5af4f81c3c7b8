"""fifo_write_vrrp_states_on_reload: after a reload the notify FIFOs get the unchanged states,
as keepalived 2.2.7 writes them (seen with keepalived 2.2.7 in a netns: a FAULT sync group of
two, a MASTER alone, SIGHUP -> GROUP "G" FAULT 0, INSTANCE "VI_2" FAULT 100, INSTANCE "VI_3"
FAULT 90, nothing for the MASTER)."""

from __future__ import annotations

import asyncio
import logging

import pytest

from keepalived_py.config import load_text
from keepalived_py.track.events import RunNotify
from keepalived_py.track.notify import Notifier
from keepalived_py.vrrp.state import State
from keepalived_py.vrrpd.reload_fifo import reload_fifo_notes
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.unit.vrrpd.test_runtime import Rig

LOG = logging.getLogger("test.reload_fifo")

CONF = """
global_defs {{
{flag}
}}
vrrp_sync_group G {{
    group {{
        VI_2
        VI_3
    }}
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 100
    virtual_ipaddress {{
        192.0.2.51/32
    }}
}}
vrrp_instance VI_2 {{
    interface eth0
    virtual_router_id 52
    priority 100
    track_interface {{
        eth1
    }}
    virtual_ipaddress {{
        192.0.2.52/32
    }}
}}
vrrp_instance VI_3 {{
    interface eth0
    virtual_router_id 53
    priority 90
    virtual_ipaddress {{
        192.0.2.53/32
    }}
}}
"""


def fifo(kind: str, name: str, state: str, prio: int) -> RunNotify:
    return RunNotify(kind, name, state, prio, fifo_only=True)


def test_unchanged_states_but_a_staying_master():
    notes = reload_fifo_notes([("G", State.FAULT)], {"G": State.FAULT},
                              [("VI_1", State.MASTER, 100), ("VI_2", State.FAULT, 100), ("VI_3", State.BACKUP, 90)],
                              {"VI_1": State.MASTER, "VI_2": State.FAULT, "VI_3": State.BACKUP})
    assert notes == [fifo("GROUP", "G", "FAULT", 0), fifo("INSTANCE", "VI_2", "FAULT", 100),
                     fifo("INSTANCE", "VI_3", "BACKUP", 90)]


def test_new_or_changed_states_get_their_full_notifies_instead():
    notes = reload_fifo_notes([("G", State.BACKUP), ("H", State.FAULT), ("M", State.MASTER)],
                              {"G": State.FAULT},  # H is new; M is new but MASTER: written
                              [("VI_1", State.BACKUP, 100), ("VI_2", State.BACKUP, 100)],
                              {"VI_1": State.MASTER})  # VI_1 changed, VI_2 new
    assert notes == [fifo("GROUP", "M", "MASTER", 0)]


class Recorder:
    def __init__(self) -> None:
        self.seen: list[RunNotify] = []

    def handle(self, act: RunNotify) -> None:
        self.seen.append(act)


@pytest.mark.parametrize("flag", ["    fifo_write_vrrp_states_on_reload", ""])
def test_reload_writes_the_unchanged_states_to_the_fifo(flag):
    async def go():
        r = Rig()
        r.net.add_link("eth1", up=False)
        notes = Recorder()
        config = load_text(CONF.format(flag=flag)).config
        rt = VrrpRuntime(r.net, r.clock, LOG, sender=r.sender, socket_opener=r.opener, scheduler=r.sched,
                         vmac_sysctls=r.sysctls, notifier=notes)
        r.rt = rt
        await rt.start(config)
        await r.advance(4.0)
        assert [rt.state_of(n) for n in ("VI_1", "VI_2", "VI_3")] == [State.MASTER, State.FAULT, State.FAULT]
        notes.seen.clear()
        await rt.reload(load_text(CONF.format(flag=flag)).config)
        await r.settle()
        got = [n for n in notes.seen if n.fifo_only]
        await rt.stop()
        return got
    got = asyncio.run(go())
    if flag:
        assert got == [fifo("GROUP", "G", "FAULT", 0), fifo("INSTANCE", "VI_2", "FAULT", 100),
                       fifo("INSTANCE", "VI_3", "FAULT", 90)]
    else:
        assert got == []


def test_a_fifo_only_notify_writes_the_line_and_runs_nothing():
    n = Notifier()
    lines: list[str] = []
    n._write_fifos = lines.append  # the FIFO part alone (track/fifo.py is tested on its own)
    asyncio.run(n._notify(fifo("INSTANCE", "VI_2", "FAULT", 100)))
    assert lines == ['INSTANCE "VI_2" FAULT 100\n']
    assert n.last_state == {}
