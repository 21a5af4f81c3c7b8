"""The TCP proxy's cheaper new-connection path keeps its behaviour: a connect to a real server
that does not answer is cancelled by the listener's sweep (no timer per connection), and a
connection whose two directions are both finished is closed with a FIN, not a reset, on each
side, whichever side finished first (close() instead of shutdown() then close())."""

from __future__ import annotations

import asyncio
import socket

from conformance.lab.poll import wait_until_async
from keepalived_py.lvs.userspace import tcp
from tests.unit.lvs.test_userspace_port import dataplane, free_port, run


def test_connect_that_never_completes_is_cancelled_by_the_sweep():
    async def main() -> None:
        vport, rport = free_port(), free_port()
        # a real server whose accept queue is full: the kernel drops further SYNs, so the
        # proxy's connect stays under way
        backends, fillers = [], []
        for host in ("127.0.0.2", "127.0.0.3", "127.0.0.4"):
            b = socket.socket()
            b.bind((host, rport))
            b.listen(0)
            backends.append(b)
            for _ in range(3):
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex((host, rport))
                fillers.append(s)
        port, _key = await dataplane("rr", vport, rport)
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", vport)
            listener = next(iter(port.listeners.values()))
            assert isinstance(listener, tcp.TcpListener)
            await wait_until_async(lambda: listener.pipes, 10, step=0.01)
            pipe = next(iter(listener.pipes))
            await asyncio.sleep(0.05)
            assert pipe.server is None and pipe.task is not None and len(listener.tasks) == 1
            port.sweep()                                    # not yet CONNECT_TIMEOUT old
            assert listener.pipes
            real_now = listener.now
            listener.now = lambda: real_now() + tcp.CONNECT_TIMEOUT + 1
            port.sweep()
            await wait_until_async(lambda: not listener.tasks, 10, step=0.01)
            assert not listener.pipes and not listener.tasks
            try:
                assert await asyncio.wait_for(reader.read(), 5) == b""
            except ConnectionError:
                pass                                        # aborted: a reset is as good
            d = port.stats()[0].dests
            assert sum(x.active for x in d) == 0 and sum(x.inactive for x in d) == 1  # CLOSE
            writer.close()
        finally:
            await port.close()
            for s in fillers + backends:
                s.close()
    run(main)


def test_both_directions_finished_close_with_fin_on_each_side():
    results: dict[str, object] = {}

    async def server_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"hello")
        writer.write_eof()                      # the real server finishes first
        try:
            results["server got"] = await reader.read()     # then the client's FIN
        except ConnectionError as exc:
            results["server got"] = exc
        writer.close()

    async def client_first(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        data = await reader.read()              # the client finishes first
        writer.write(b"re:" + data)
        await writer.drain()
        writer.close()

    async def main() -> None:
        for name, handler in (("server first", server_first), ("client first", client_first)):
            vport, rport = free_port(), free_port()
            servers = [await asyncio.start_server(handler, h, rport)
                       for h in ("127.0.0.2", "127.0.0.3", "127.0.0.4")]
            port, _key = await dataplane("rr", vport, rport)
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", vport)
                if name == "server first":
                    assert await asyncio.wait_for(reader.read(), 5) == b"hello"
                    writer.write(b"bye")
                    writer.write_eof()
                    await wait_until_async(lambda: "server got" in results, 10, step=0.01)
                    assert results["server got"] == b"bye", results
                else:
                    writer.write(b"ping")
                    writer.write_eof()
                    assert await asyncio.wait_for(reader.read(), 5) == b"re:ping"
                writer.close()
                listener = next(iter(port.listeners.values()))
                assert isinstance(listener, tcp.TcpListener)
                await wait_until_async(lambda listener=listener: not listener.pipes, 10, step=0.01)
                assert not listener.pipes and not listener.tasks, name
            finally:
                await port.close()
                for s in servers:
                    s.close()
    run(main)
