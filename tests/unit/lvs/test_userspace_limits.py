"""The userspace dataplane's connection limits (issue 18: "connection limits, no unbounded
buffers"): above `max_conns` a TCP listener closes new clients at once and counts them, a UDP
listener drops a new client's datagrams; both serve again once below the limit."""

from __future__ import annotations

import asyncio
import socket

from conformance.lab.poll import wait_until_async
from keepalived_py.lvs.table import PROTO_UDP
from tests.unit.lvs.test_userspace_port import BACKENDS, Backends, client, dataplane, free_port, run


def test_tcp_clients_above_max_conns_are_closed_and_counted():
    async def main() -> None:
        vport, rport = free_port(), free_port()
        async with Backends(rport):
            port, _key = await dataplane("rr", vport, rport)
            port.max_conns = 2
            for lst in port.listeners.values():
                lst.max_conns = 2          # the listener was made before the limit was lowered
            held = []
            try:
                for _ in range(2):
                    name, _r, w = await client(vport)
                    held.append(w)
                listener = next(iter(port.listeners.values()))
                reader, writer = await asyncio.open_connection("127.0.0.1", vport)
                assert await asyncio.wait_for(reader.read(), 5) == b""   # closed, no server chosen
                writer.close()
                assert listener.refused == 1 and len(listener.pipes) == 2
                assert port.stats()[0].counters.conns == 2
                held.pop().transport.abort()
                await wait_until_async(lambda: len(listener.pipes) < 2, 10, step=0.01)
                name, _r, w = await client(vport)          # below the limit: served again
                held.append(w)
                assert name in ("r1", "r2", "r3")
            finally:
                for w in held:
                    w.close()
                await port.close()
    run(main)


def test_udp_clients_above_max_sessions_are_dropped():
    async def main() -> None:
        loop = asyncio.get_running_loop()
        vport, rport = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_DGRAM)
        # bound real servers (never read): no ICMP unreachable to count as a drop
        servers = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in BACKENDS]
        for s, host in zip(servers, BACKENDS, strict=True):
            s.bind((host, rport))
        port, _key = await dataplane("rr", vport, rport, proto=PROTO_UDP)
        listener = next(iter(port.listeners.values()))
        listener.max_sessions = 1
        socks = []
        try:
            for _ in range(3):
                t, _ = await loop.create_datagram_endpoint(asyncio.DatagramProtocol,
                                                           remote_addr=("127.0.0.1", vport))
                socks.append(t)
                t.sendto(b"q")
            await wait_until_async(lambda: listener.dropped >= 2, 25, step=0.01)
            assert (len(listener.sessions), listener.dropped) == (1, 2)
        finally:
            for t in socks:
                t.close()
            for s in servers:
                s.close()
            await port.close()
    run(main)
