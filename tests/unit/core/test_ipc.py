"""The parent<->child channel: typed, validated, size-limited."""

from __future__ import annotations

import asyncio
import struct

import pytest

from keepalived_py.ipc import messages as m
from keepalived_py.ipc.channel import Channel, frame, make_pair


@pytest.mark.parametrize("msg", [
    m.Ready(role="vrrp", pid=12), m.Reload(seq=3, config_file="/etc/k.conf"),
    m.ReloadDone(seq=3, ok=False, error="x"), m.DumpRequest(seq=1, kind="stats_clear"),
    m.DumpReply(seq=1, kind="json", json=[{"a": 1}]), m.Stop(),
])
def test_round_trip(msg):
    assert m.decode(m.encode(msg)) == msg


@pytest.mark.parametrize("raw", [
    b"[]", b"{}", b'{"type":"nope"}', b'{"type":"ready","role":"vrrp","pid":"1"}',
    b'{"type":"ready","role":"vrrp","pid":true}', b'{"type":"ready","role":"vrrp"}',
    b'{"type":"stop","extra":1}', b'{"type":"dump_request","seq":1,"kind":"bogus"}', b"\xff",
])
def test_bad_messages_rejected(raw):
    with pytest.raises(m.IpcError):
        m.decode(raw)


def test_size_limit():
    with pytest.raises(m.IpcError):
        m.encode(m.DumpReply(seq=1, kind="data", text="x" * (m.MAX_MESSAGE + 1)))


def test_channel_over_socketpair():
    async def go():
        a, b = make_pair()
        ca, cb = await Channel.open(a), await Channel.open(b)
        await ca.send(m.Reload(seq=1, config_file="f"))
        await ca.send(m.Stop())
        got = [await cb.recv(), await cb.recv()]
        ca.close()
        eof = await cb.recv()
        cb.close()
        return got, eof

    got, eof = asyncio.run(go())
    assert got == [m.Reload(seq=1, config_file="f"), m.Stop()] and eof is None


def test_oversized_frame_closes_channel():
    async def go():
        a, b = make_pair()
        cb = await Channel.open(b)
        a.sendall(struct.pack(">I", m.MAX_MESSAGE + 1))
        with pytest.raises(m.IpcError):
            await cb.recv()
        assert cb.closed
        a.close()

    asyncio.run(go())


def test_frame_is_length_prefixed():
    data = frame(m.Stop())
    assert struct.unpack(">I", data[:4])[0] == len(data) - 4
