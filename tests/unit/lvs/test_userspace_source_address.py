"""A deliberate difference of the userspace dataplane (conformance/DIFFERENCES.md): it
proxies, so a real server sees the balancer's address as the source, where the kernel's
NAT keeps the client's."""

from __future__ import annotations

import asyncio

from tests.unit.lvs.test_userspace_port import dataplane, free_port, run


def test_the_real_server_sees_the_balancer_not_the_client():
    async def main() -> None:
        vport, rport = free_port(), free_port()
        peers: list[str] = []

        async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            peers.append(writer.get_extra_info("peername")[0])
            writer.write(b"r\n")
            await writer.drain()
            writer.close()

        servers = [await asyncio.start_server(serve, h, rport) for h in ("127.0.0.2", "127.0.0.3", "127.0.0.4")]
        port, _key = await dataplane("rr", vport, rport)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", vport, local_addr=("127.0.0.9", 0))
            assert await asyncio.wait_for(reader.readline(), 5) == b"r\n"
            writer.close()
            assert peers == ["127.0.0.1"]          # the balancer's own address, not 127.0.0.9
        finally:
            await port.close()
            for s in servers:
                s.close()
    run(main)
