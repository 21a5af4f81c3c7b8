"""The demo's client: one HTTP GET to the VIP every GAP seconds, forever, one line per
request on stdout: `<start> ok <server> <end>` or `<start> fail <why> <end>` (monotonic).

Run as `python -m keepalived_py.demo.client VIP PORT GAP TIMEOUT` inside the client
namespace; CLOCK_MONOTONIC is the host's in every network namespace, so the demo compares
these times with its own."""

from __future__ import annotations

import socket
import sys
import time


def one(vip: str, port: int, timeout: float) -> str:
    """`ok NAME` or `fail REASON` for one GET / on a fresh connection."""
    try:
        with socket.create_connection((vip, port), timeout=timeout) as s:
            s.settimeout(timeout)
            s.sendall(b"GET / HTTP/1.0\r\nHost: demo\r\n\r\n")
            data = b""
            while chunk := s.recv(4096):
                data += chunk
    except TimeoutError:
        return "fail timeout"
    except ConnectionRefusedError:
        return "fail refused"
    except ConnectionResetError:
        return "fail reset"
    except OSError as e:
        return f"fail {type(e).__name__}"
    head, _, body = data.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.") or b" 200 " not in head.split(b"\r\n", 1)[0] + b" ":
        return "fail no-http-answer" if not head else "fail bad-status"
    return "ok " + (body.decode(errors="replace").strip() or "?")


def main(argv: list[str]) -> None:
    vip, port, gap, timeout = argv[0], int(argv[1]), float(argv[2]), float(argv[3])
    while True:
        start = time.monotonic()
        what = one(vip, port, timeout)
        print(f"{start:.4f} {what} {time.monotonic():.4f}", flush=True)
        time.sleep(max(0.0, gap - (time.monotonic() - start)))


if __name__ == "__main__":
    try:
        main(sys.argv[1:])
    except (KeyboardInterrupt, BrokenPipeError):
        pass
