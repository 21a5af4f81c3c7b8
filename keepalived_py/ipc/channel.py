"""A parent<->child channel: a Unix socketpair carrying length-prefixed messages.

Frame = 4-byte big-endian length + JSON body (ipc.messages). A frame over the size limit or
a body that does not decode closes the channel: after a framing error nothing that follows
can be trusted. EOF means the peer is gone, which the supervisor also learns from wait().
"""

from __future__ import annotations

import asyncio
import socket
import struct

from keepalived_py.ipc.messages import MAX_MESSAGE, IpcError, Message, decode, encode

_HEADER = struct.Struct(">I")


def frame(msg: Message) -> bytes:
    body = encode(msg)
    return _HEADER.pack(len(body)) + body


def make_pair() -> tuple[socket.socket, socket.socket]:
    """(parent end, child end); the child end is inheritable so it survives exec."""
    parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    child.set_inheritable(True)
    return parent, child


class Channel:
    """One end of the socketpair, used from an asyncio loop."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer
        self.closed = False

    @classmethod
    async def open(cls, sock: socket.socket) -> Channel:
        sock.setblocking(False)
        reader, writer = await asyncio.open_unix_connection(sock=sock, limit=MAX_MESSAGE + 4)
        return cls(reader, writer)

    async def send(self, msg: Message) -> bool:
        """Queue one message; False when the peer is gone."""
        if self.closed:
            return False
        try:
            self._writer.write(frame(msg))
            await self._writer.drain()
        except (ConnectionError, OSError):
            self.closed = True
            return False
        return True

    async def recv(self) -> Message | None:
        """Next message, or None at EOF. Raises IpcError (and closes) on a bad frame."""
        if self.closed:
            return None
        try:
            header = await self._reader.readexactly(_HEADER.size)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.closed = True
            return None
        (length,) = _HEADER.unpack(header)
        if length > MAX_MESSAGE:
            self.close()
            raise IpcError(f"frame of {length} bytes exceeds {MAX_MESSAGE}")
        try:
            body = await self._reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            self.closed = True
            return None
        try:
            return decode(body)
        except IpcError:
            self.close()
            raise

    def close(self) -> None:
        if not self.closed:
            self.closed = True
        try:
            self._writer.close()
        except (RuntimeError, OSError):
            pass
