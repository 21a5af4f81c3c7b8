"""BFD session state between the processes: the BfdState message, the parent forwarding
it by the instance's vrrp/checker flags (and replaying it to a child that starts), and
the vrrp child turning it into a track_bfd report."""

from __future__ import annotations

import asyncio
import logging
from types import SimpleNamespace

import pytest

from keepalived_py.bfd.track import bfd_tracking
from keepalived_py.core.supervisor import Child, Supervisor
from keepalived_py.ipc.messages import BfdState, IpcError, Ready, decode, encode
from keepalived_py.track.events import TrackingChanged


def test_message_round_trip_and_checks():
    msg = BfdState(name="b1", up=True, vrrp=True, checker=False, sent_time=12.5)
    assert decode(encode(msg)) == msg
    with pytest.raises(IpcError):
        decode(b'{"type":"bfd_state","name":"b1","up":"yes"}')
    with pytest.raises(IpcError):
        decode(b'{"type":"bfd_state","name":7,"up":true}')


class FakeChannel:
    def __init__(self) -> None:
        self.sent: list[object] = []
        self.closed = False

    async def send(self, msg: object) -> bool:
        self.sent.append(msg)
        return True


def _supervisor() -> Supervisor:
    sup = Supervisor(SimpleNamespace(), SimpleNamespace(config=None), None, logging.getLogger("t"))
    for role in ("vrrp", "check", "bfd"):
        sup.children[role] = Child(role, proc=SimpleNamespace(returncode=None, pid=1), channel=FakeChannel())
    return sup


def test_parent_forwards_by_flags_and_replays_on_ready():
    async def scenario() -> tuple[Supervisor, list, list]:
        sup = _supervisor()
        vrrp_only = BfdState(name="b1", up=False, vrrp=True, checker=False)
        both = BfdState(name="b2", up=True)
        sup._forward_bfd(vrrp_only)
        sup._forward_bfd(both)
        await asyncio.sleep(0)
        first_vrrp = list(sup.children["vrrp"].channel.sent)
        first_check = list(sup.children["check"].channel.sent)
        # a vrrp child that (re)starts gets the last state of every instance once ready
        sup.bfd_states = {"b1": vrrp_only, "b2": both}
        sup.children["vrrp"].channel = FakeChannel()
        for state in sup.bfd_states.values():
            sup._forward_bfd(state, only="vrrp")
        await asyncio.sleep(0)
        return sup, first_vrrp, first_check

    sup, first_vrrp, first_check = asyncio.run(scenario())
    assert [m.name for m in first_vrrp] == ["b1", "b2"]
    assert [m.name for m in first_check] == ["b2"]
    assert [m.name for m in sup.children["vrrp"].channel.sent] == ["b1", "b2"]
    assert sup.children["bfd"].channel.sent == []


def test_parent_reads_bfd_state_only_from_the_bfd_child():
    async def scenario() -> Supervisor:
        sup = _supervisor()
        sup.tracker.begin({"vrrp"})

        class Feed:
            def __init__(self, msgs: list) -> None:
                self.msgs = msgs

            async def recv(self):
                return self.msgs.pop(0) if self.msgs else None

        await sup._read_child(sup.children["vrrp"], Feed([BfdState(name="forged", up=True)]))
        await sup._read_child(sup.children["bfd"], Feed([BfdState(name="b1", up=True)]))
        await asyncio.sleep(0)
        sup.children["vrrp"].channel = FakeChannel()
        await sup._read_child(sup.children["vrrp"], Feed([Ready(role="vrrp", pid=2)]))
        await asyncio.sleep(0)
        return sup

    sup = asyncio.run(scenario())
    assert set(sup.bfd_states) == {"b1"}
    assert [m.name for m in sup.children["vrrp"].channel.sent] == ["b1"]


def test_vrrp_side_reports_track_bfd():
    got: list[TrackingChanged] = []
    lines: list[str] = []
    hook = bfd_tracking(got.append, lines.append)
    hook(BfdState(name="b1", up=True))
    hook(BfdState(name="b1", up=False))
    hook(Ready(role="x", pid=1))  # not ours: ignored
    assert got == [TrackingChanged("bfd", "b1", ok=True), TrackingChanged("bfd", "b1", ok=False)]
    assert lines[0].startswith("Received BFD event: instance b1 is in state Up")
