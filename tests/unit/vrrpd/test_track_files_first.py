"""Track files are read before the instances start, as keepalived's init_track_files does:
the vrrp child starts an instance with its file's value already applied ('Changing
effective priority from 100 to 120' then 'Entering BACKUP STATE (init)', keepalived 2.2.7's
log and FIFO for the same config in a netns), and Trackers.start() after start_files()
reports each file once."""

from __future__ import annotations

import asyncio
import logging

from keepalived_py.config import load_text
from keepalived_py.track.trackers import Trackers
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.unit.track.helpers import Events
from tests.unit.vrrpd.test_runtime import LOG, Rig, run

CONF = """
track_file tf {{
    file {path}
    weight 10
}}
vrrp_instance VI_1 {{
    interface eth0
    virtual_router_id 51
    priority 100
    advert_int 1
    track_file {{
        tf
    }}
    virtual_ipaddress {{
        192.0.2.10/32
    }}
}}
"""


class Notes:
    def __init__(self) -> None:
        self.seen: list[tuple[str, int]] = []

    def handle(self, act) -> None:
        self.seen.append((act.state, act.priority))


def test_instance_starts_with_the_files_value(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger=LOG.name)
    f = tmp_path / "tf"
    f.write_text("2\n")
    config = load_text(CONF.format(path=f)).config

    async def go():
        r = Rig()
        notes = Notes()
        r.rt = VrrpRuntime(r.net, r.clock, LOG, sender=r.sender, socket_opener=r.opener, scheduler=r.sched,
                           vmac_sysctls=r.sysctls, notifier=notes)
        tr = Trackers()
        try:
            await tr.start_files(config, r.rt.deliver_tracking)
            await r.rt.start(config)
            await r.settle()
            return r.rt.by_name["VI_1"].machine.state, notes.seen
        finally:
            await tr.stop()
    state, seen = run(go())
    assert (state, seen) == (State.BACKUP, [("BACKUP", 120)])
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("(VI_1)")]
    assert lines[:2] == ["(VI_1) Changing effective priority from 100 to 120", "(VI_1) Entering BACKUP STATE (init)"]


def test_start_after_start_files_reports_each_file_once(tmp_path):
    f = tmp_path / "tf"
    f.write_text("5\n")
    config = load_text(CONF.format(path=f)).config

    async def go():
        ev = Events()
        tr = Trackers()
        try:
            await tr.start_files(config, ev)
            await tr.start(config, ev)
            await asyncio.sleep(0)
            return ev.of("file", "tf")
        finally:
            await tr.stop()
    assert asyncio.run(go()) == [5]
