"""`keepalived-py -T` against real keepalived 2.2.7's `keepalived -T` on the same loopback pages:
the same stdout, stderr and exit status, byte for byte (the verbose mode's response time and
the program name in the usage text aside)."""

from __future__ import annotations

import os
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from tests.envcheck import keepalived_binary
from tests.unit.check.genhash_server import canned, page
from tests.unit.check.servers import closed_port, self_signed

pytestmark = [pytest.mark.keepalived]

OURS = [str(Path(sys.executable).with_name("keepalived-py"))]
if not os.path.exists(OURS[0]):
    OURS = [sys.executable, "-c", "import sys; from keepalived_py.cli import main; sys.exit(main())"]


def both(args: list[str]) -> tuple[tuple[int, bytes, bytes], tuple[int, bytes, bytes]]:
    """(theirs, ours): exit status, stdout, stderr of `-T args`."""
    def one(cmd: list[str]) -> tuple[int, bytes, bytes]:
        p = subprocess.run([*cmd, "-T", *args], capture_output=True, timeout=60)
        return p.returncode, p.stdout, p.stderr
    return one([keepalived_binary()]), one(OURS)


def assert_same(args: list[str]) -> tuple[int, bytes, bytes]:
    theirs, ours = both(args)
    assert ours == theirs, f"genhash {args}: keepalived {theirs!r} keepalived-py {ours!r}"
    return ours


BODIES = {
    "small": page(b"hello world\n"),
    "empty_body": page(b""),
    "not_found": page(b"<h1>404</h1>", "404 Not Found"),
    "binary": page(bytes(range(256)) * 40),
    "no_length": b"HTTP/1.0 200 OK\r\nServer: test\r\n\r\n" + b"until EOF " * 1000,
}


@pytest.mark.parametrize("name", sorted(BODIES))
def test_same_digest_as_keepalived(name: str) -> None:
    with canned(BODIES[name], pieces=3) as srv:
        status, out, _ = assert_same(["-s", "127.0.0.1", "-p", str(srv.port), "-u", "/page.html"])
    assert status == 0 and len(out) == 33
    # both sent keepalived's request: same line and headers (aiohttp orders them its way)
    theirs, ours = srv.requests
    assert sorted(theirs.split(b"\r\n")) == sorted(ours.split(b"\r\n"))


def test_same_over_ipv6_with_virtualhost_and_protocols() -> None:
    with canned(BODIES["small"], host="::1") as srv:
        for extra in ([], ["-V", "www.example.com"], ["-P", "1.0c"], ["-P", "1.1"]):
            assert_same(["-s", "::1", "-p", str(srv.port), "-u", "/v6", *extra])
    for theirs, ours in zip(srv.requests[::2], srv.requests[1::2], strict=True):
        assert sorted(theirs.split(b"\r\n")) == sorted(ours.split(b"\r\n"))


def test_same_over_tls(tmp_path) -> None:
    cert, key = self_signed(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    with canned(page(b"over tls\n" * 300), tls=ctx) as srv:
        status, out, _ = assert_same(["-S", "-s", "127.0.0.1", "-p", str(srv.port), "-u", "/"])
        assert_same(["-S", "-I", "-V", "localhost", "-s", "127.0.0.1", "-p", str(srv.port), "-u", "/"])
    assert status == 0 and len(out) == 33


def test_same_failures() -> None:
    assert_same(["-s", "127.0.0.1", "-p", str(closed_port()), "-u", "/"])
    with canned(b"") as srv:
        assert assert_same(["-s", "127.0.0.1", "-p", str(srv.port), "-u", "/"])[2] == \
            b"no data received from remote webserver\n"
    with canned(b"", hang=True) as srv:
        assert assert_same(["-s", "127.0.0.1", "-p", str(srv.port), "-u", "/", "-t", "1"])[1] == \
            b"Timeout WEB read\n"
    # TLS to a plain server that speaks first: its bytes are no ServerHello
    with canned(page(b"x"), eager=True) as srv:
        assert assert_same(["-S", "-s", "127.0.0.1", "-p", str(srv.port), "-u", "/", "-t", "5"])[1] == \
            b"SSL handshake/communication error connecting to\n"
    # TLS to a server waiting for a request that never comes: the handshake times out
    with canned(page(b"x")) as srv:
        assert assert_same(["-S", "-s", "127.0.0.1", "-p", str(srv.port), "-u", "/", "-t", "1"])[1] == \
            b"Timeout connecting\n"


@pytest.mark.parametrize("args", [
    [], ["-h"], ["-v"], ["-s", "127.0.0.1", "-p", "80"], ["-s", "foo", "-p", "1", "-u", "/"],
    ["-s", "127.0.0.1", "-p", "0", "-u", "/"], ["-s", "127.0.0.1", "-p", "80", "-u", "/", "-P", "2"],
    ["-s", "127.0.0.1", "-p", "80", "-u", "/", "-t", "x"], ["-s", "127.0.0.1", "-p", "80", "-u", "/", "-m", "-1"],
    ["-q"], ["--bogus"], ["-s"], ["-s", "127.0.0.1", "-p", "1", "-u", "/x", "extra"],
], ids=repr)
def test_same_command_line_errors(args: list[str]) -> None:
    theirs, ours = both(args)
    prog = os.path.basename(OURS[0]) if len(OURS) == 1 else "keepalived-py"
    mine = ours[2].replace(f"Usage: {prog} ".encode(), f"Usage: {keepalived_binary()} ".encode())
    assert (ours[0], ours[1], mine) == theirs


def test_same_verbose_dump() -> None:
    # header and body in one write: keepalived reads them together and prints its
    # "HTML Buffer" delimiter before the body, as we always do
    with canned(page(b"verbose page\n" * 3)) as srv:
        theirs, ours = both(["-v", "-s", "127.0.0.1", "-p", str(srv.port), "-u", "/v"])
    assert ours[0] == theirs[0] == 0
    strip = lambda out: out.rsplit(b"\nGlobal response time for [/v] = ", 1)  # noqa: E731
    assert strip(ours[1])[0] == strip(theirs[1])[0]
    assert strip(ours[1])[1].endswith(b" usecs\n")


def test_run_as_genhash(tmp_path) -> None:
    """keepalived run under the name genhash (Debian's /usr/bin/genhash symlink) is genhash
    with every argument; so is keepalived-py."""
    if len(OURS) != 1:
        pytest.skip("needs the keepalived-py console script")
    ours = tmp_path / "genhash"
    ours.symlink_to(OURS[0])
    theirs = tmp_path / "ka" / "genhash"
    theirs.parent.mkdir()
    theirs.symlink_to(keepalived_binary())
    with canned(BODIES["small"]) as srv:
        args = ["-s", "127.0.0.1", "-p", str(srv.port), "-u", "/g"]
        got = [subprocess.run([str(p), *args], capture_output=True, timeout=60) for p in (theirs, ours)]
    assert got[0].stdout == got[1].stdout and got[1].returncode == got[0].returncode == 0
    usage = [subprocess.run([str(p), "-h"], capture_output=True, text=True, timeout=60) for p in (theirs, ours)]
    assert usage[0].returncode == usage[1].returncode == 1
    assert usage[1].stderr.replace(str(ours), str(theirs)) == usage[0].stderr
    assert usage[1].stderr.startswith(f"Usage: {ours} COMMAND [OPTIONS]\n")


def test_same_warning_when_T_is_not_first() -> None:
    with canned(BODIES["small"]) as srv:
        args = ["-l", "-T", "-s", "127.0.0.1", "-p", str(srv.port), "-u", "/w"]
        got = [subprocess.run([*cmd, *args], capture_output=True, timeout=60)
               for cmd in ([keepalived_binary()], OURS)]
    assert got[0].stderr == got[1].stderr == b"Warning -- `-T` not used as first option, previous options ignored\n"
    assert got[0].stdout == got[1].stdout and len(got[1].stdout) == 33
