"""keepalived.data / keepalived.json from the runtime's snapshots: master_priority and
last_transition as keepalived 2.2.7 writes them (vrrp_data.c, vrrp_json.c; checked against
the real binary in a netns):

- keepalived.json: "master_priority" the priority of the master last heard (0 on a MASTER
  that never heard one), "last_transition" a wall-clock timestamp float with microseconds
  (e.g. 1796186623.096005);
- keepalived.data: "Master router" / "Master priority" only while BACKUP, and
  "Last transition = SEC.USEC (Wed Dec  2 04:43:43.096005 2026)".

Fake monotonic clock and a fake wall clock a fixed offset away, so the expected
timestamps are exact."""

from __future__ import annotations

import asyncio
import time

import pytest

from keepalived_py.observe.vrrp import ctime_us, data_text, json_data
from keepalived_py.vrrp.machine import State
from keepalived_py.vrrpd.runtime import VrrpRuntime
from tests.unit.vrrpd.test_runtime import LOG, Rig, _advert, conf

WALL_OFFSET = 1796185623.25  # wall clock = monotonic + this


class WallRig(Rig):
    async def start(self, config, release: bool = True) -> VrrpRuntime:
        self.rt = VrrpRuntime(self.net, self.clock, LOG, sender=self.sender, socket_opener=self.opener,
                              scheduler=self.sched, release_on_stop=release, vmac_sysctls=self.sysctls,
                              wall_clock=lambda: self.clock.now() + WALL_OFFSET)
        await self.rt.start(config)
        await self.settle()
        return self.rt


def _line(text: str, key: str) -> str:
    return next(x for x in text.splitlines() if x.startswith(f"   {key} = ")).split(" = ", 1)[1]


def test_backup_dumps_the_master_priority_and_transition_time():
    async def go():
        r = WallRig()
        t_start = r.clock.now()
        rt = await r.start(conf(prio=100))
        await r.advance(1.0)
        r.sock().inject(_advert(200))
        await r.settle()
        assert rt.state_of("VI_1") == State.BACKUP
        snaps = rt.snapshots()
        j = json_data(snaps, rt.wall_offset())[0]["data"]
        assert j["master_priority"] == 200
        assert j["last_transition"] == t_start + WALL_OFFSET  # entered BACKUP at start
        data = data_text(snaps, rt.wall_offset())
        assert _line(data, "Master router") == "192.0.2.2"
        assert _line(data, "Master priority") == "200"
        us = round((t_start + WALL_OFFSET) * 1e6)
        assert _line(data, "Last transition") == f"{us // 10**6}.{us % 10**6:06d} ({ctime_us(us)})"
        await rt.stop()
    asyncio.run(go())


def test_master_dumps_its_transition_and_keeps_master_priority_zero():
    async def go():
        r = WallRig()
        rt = await r.start(conf(prio=100))
        await r.advance(3.7)  # Master_Down_Interval 3 + 156/256 s: MASTER at start + 3.609375
        assert rt.state_of("VI_1") == State.MASTER
        became = 1000.0 + 3 + 156 / 256
        snaps = rt.snapshots()
        j = json_data(snaps, rt.wall_offset())[0]["data"]
        assert j["master_priority"] == 0 and j["state"] == 2
        assert j["last_transition"] == pytest.approx(became + WALL_OFFSET, abs=1e-6)
        data = data_text(snaps, rt.wall_offset())
        assert "Master priority" not in data and "Master router" not in data
        assert _line(data, "Last transition").startswith(f"{int(became + WALL_OFFSET)}.859375 (")
        # a higher master takes over: BACKUP, its priority recorded, a new transition time
        await r.advance(0.5)
        r.sock().inject(_advert(250))
        await r.settle()
        assert rt.state_of("VI_1") == State.BACKUP
        j = json_data(rt.snapshots(), rt.wall_offset())[0]["data"]
        assert j["master_priority"] == 250
        assert j["last_transition"] == pytest.approx(r.clock.now() + WALL_OFFSET, abs=1e-6)
        await rt.stop()
    asyncio.run(go())


def test_ctime_us_matches_keepalived_format():
    us = 1796186623_096005
    text = ctime_us(us)
    tm = time.localtime(1796186623)
    assert text == time.strftime("%a %b ", tm) + f"{tm.tm_mday:2d}" + time.strftime(" %H:%M:%S", tm) \
        + f".096005 {tm.tm_year}"


def test_wall_offset_is_read_once_like_keepalived():
    """A wall clock stepped after start (NTP) does not move a past transition, and two
    dumps of one transition print the same timestamp."""
    async def go():
        r = Rig()
        wall = [5000.0]
        r.rt = rt = VrrpRuntime(r.net, r.clock, LOG, sender=r.sender, socket_opener=r.opener,
                                scheduler=r.sched, vmac_sysctls=r.sysctls, wall_clock=lambda: wall[0])
        await rt.start(conf(prio=255))
        await r.settle()
        first = json_data(rt.snapshots(), rt.wall_offset())[0]["data"]["last_transition"]
        assert first == 5000.0  # MASTER at once (owner), at the start
        wall[0] += 100.0
        await r.advance(1.0)
        again = json_data(rt.snapshots(), rt.wall_offset())[0]["data"]["last_transition"]
        assert again == first
        await rt.stop()
    asyncio.run(go())
