"""systemd's notify protocol (sd_notify), spoken when NOTIFY_SOCKET is set.

The Debian unit is Type=notify: systemd waits for READY=1 before it counts the service as
started, and expects RELOADING=1 / STOPPING=1 around reloads and stops. keepalived only
speaks it when its parent is systemd; we speak it whenever NOTIFY_SOCKET is set (so it
can be tested without systemd), and children never inherit the variable.
"""

from __future__ import annotations

import os
import socket

ENV = "NOTIFY_SOCKET"


class Notifier:
    """Sends datagrams to $NOTIFY_SOCKET; a no-op when it is unset or unreachable."""

    def __init__(self, address: str | None = None) -> None:
        self.address = address if address is not None else os.environ.get(ENV) or None

    @property
    def enabled(self) -> bool:
        return bool(self.address)

    def send(self, *lines: str) -> bool:
        if not self.address:
            return False
        addr = self.address
        if addr.startswith("@"):
            addr = "\0" + addr[1:]  # abstract namespace socket
        elif not addr.startswith("/"):
            return False
        payload = ("\n".join(lines) + "\n").encode()
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as s:
                s.sendto(payload, addr)
        except OSError:
            return False
        return True

    def ready(self, status: str | None = None) -> bool:
        lines = ["READY=1", f"MAINPID={os.getpid()}"]
        if status:
            lines.append(f"STATUS={status}")
        return self.send(*lines)

    def reloading(self, status: str | None = None) -> bool:
        return self.send("RELOADING=1", *([f"STATUS={status}"] if status else []))

    def stopping(self, status: str | None = None) -> bool:
        return self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def status(self, text: str) -> bool:
        return self.send(f"STATUS={text}")

    def errno(self, code: int) -> bool:
        return self.send(f"ERRNO={code}")


def child_environment(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a child: without NOTIFY_SOCKET (keepalived's
    systemd_unset_notify()), so only the parent talks to systemd."""
    result = dict(os.environ if env is None else env)
    result.pop(ENV, None)
    return result
