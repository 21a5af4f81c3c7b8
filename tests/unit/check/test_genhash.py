"""genhash (keepalived -T): the command line, keepalived's hex dump, and fetches from loopback
servers (plain and TLS) giving the body's MD5 and keepalived's failure words."""

from __future__ import annotations

import hashlib
import io
import ssl

import pytest

from keepalived_py.check.genhash import dump_buffer, parse_cmdline, run, usage
from tests.unit.check.genhash_server import canned, page
from tests.unit.check.servers import closed_port, self_signed


def test_parse_minimal_and_clustered_forms() -> None:
    opts, err = parse_cmdline(["-s", "127.0.0.1", "-p", "80", "-u", "/x"])
    assert err == "" and opts is not None
    assert (opts.server, opts.port, opts.url, opts.protocol, opts.timeout) == ("127.0.0.1", 80, "/x", "1.0", None)
    opts, err = parse_cmdline(["-vS", "-p80", "-s::1", "-u/y", "--use-virt=vh", "--prot", "1.0c", "--timeout=3", "-I"])
    assert err == "" and opts is not None
    assert (opts.verbose, opts.ssl, opts.sni, opts.port, opts.server, opts.url) == (True, True, True, 80, "::1", "/y")
    assert (opts.virtualhost, opts.protocol, opts.timeout) == ("vh", "1.0C", 3.0)


@pytest.mark.parametrize(("args", "error"), [
    (["-h"], ""),
    (["-v"], ""),
    (["-s", "127.0.0.1", "-p", "80"], ""),
    (["-s", "foo", "-p", "1", "-u", "/"], "server should be an IP, not foo\n"),
    (["-s", "127.0.0.1", "-p", "0", "-u", "/"], "invalid port number '0'\n"),
    (["-s", "127.0.0.1", "-p", "70000", "-u", "/"], "invalid port number '70000'\n"),
    (["-s", "127.0.0.1", "-p", "8x", "-u", "/"], "invalid port number '8x'\n"),
    (["-s", "127.0.0.1", "-p", "80", "-u", "/", "-P", "2"], "invalid HTTP protocol version '2'\n"),
    (["-s", "127.0.0.1", "-p", "80", "-u", "/", "-t", "x"], "invalid timeout 'x'\n"),
    (["-s", "127.0.0.1", "-p", "80", "-u", "/", "-m", "-1"], "invalid fwmark '-1'\n"),
    (["-q"], "Unknown option -q\n"),
    (["--bogus"], "Unknown option --bogus\n"),
    (["--use"], "Unknown option --use\n"),  # ambiguous prefix
    (["-s"], "Missing parameter for option -s\n"),
    (["--url"], "Missing parameter for option --url\n"),
    (["-s", "127.0.0.1", "-p", "1", "-u", "/x", "extra", "more"], "Unexpected argument(s): extra more\n"),
])
def test_parse_errors_are_keepalived_words(args: list[str], error: str) -> None:
    opts, err = parse_cmdline(args)
    assert opts is None
    assert err == error


def test_usage_goes_to_stderr_with_status_1() -> None:
    out, err = io.BytesIO(), io.StringIO()
    assert run(["-h"], "keepalived", out=out, err=err) == 1
    assert out.getvalue() == b""
    assert err.getvalue() == usage("keepalived", False)
    assert err.getvalue().startswith("Usage: keepalived --genhash COMMAND [OPTIONS]\n")
    assert usage("genhash", True).startswith("Usage: genhash COMMAND [OPTIONS]\n")


def test_dump_buffer_matches_keepalived() -> None:
    # keepalived 2.2.7's `-T -v` digest dump of md5("hello world\n")
    digest = hashlib.md5(b"hello world\n").digest()
    assert dump_buffer(digest) == "0000  6f 59 02 ac 23 70 24 bd - d0 c1 76 cb 93 06 3d c4   oY..#p$...v...=.\n"
    assert dump_buffer(b"hello world\n") == (
        "0000  68 65 6c 6c 6f 20 77 6f - 72 6c 64 0a               hello world.    \n")
    assert dump_buffer(b"") == ""
    # keepalived pads the last line with blanks and still prints the " -" after its 8th slot
    assert dump_buffer(bytes(range(17))).splitlines()[1] == "0016  10" + " " * 21 + " -" + " " * 24 + "   ." + " " * 15


def _run(args: list[str]) -> tuple[int, str, str]:
    out, err = io.BytesIO(), io.StringIO()
    status = run(args, "keepalived", out=out, err=err)
    return status, out.getvalue().decode("latin-1"), err.getvalue()


def test_digest_of_a_page_and_the_request_sent() -> None:
    body = b"<html>genhash</html>\n" * 500  # several reads
    with canned(page(body), pieces=4) as srv:
        status, out, err = _run(["-s", "127.0.0.1", "-p", str(srv.port), "-u", "/index.html"])
    assert (status, out, err) == (0, hashlib.md5(body).hexdigest() + "\n", "")
    assert srv.requests == [b"GET /index.html HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n"
                            b"User-Agent: KeepAliveClient\r\n\r\n" % srv.port]


def test_status_is_not_checked_and_content_length_bounds_the_hash() -> None:
    with canned(page(b"abc", "404 Not Found")) as srv:
        assert _run(["-s", "127.0.0.1", "-p", str(srv.port), "-u", "/"])[1] == hashlib.md5(b"abc").hexdigest() + "\n"


def test_a_path_without_its_slash_gets_one() -> None:
    with canned(page(b"p")) as srv:
        status, out, _ = _run(["-s", "127.0.0.1", "-p", str(srv.port), "-u", "index.html"])
    assert (status, out) == (0, hashlib.md5(b"p").hexdigest() + "\n")
    assert srv.requests[0].startswith(b"GET /index.html HTTP/1.0\r\n")


def test_virtualhost_and_protocol_1_1() -> None:
    with canned(page(b"v")) as srv:
        _run(["-s", "127.0.0.1", "-p", str(srv.port), "-u", "/p", "-V", "www.example.com", "-P", "1.1"])
    req = srv.requests[0]
    assert req.startswith(b"GET /p HTTP/1.1\r\n")
    assert b"Host: www.example.com\r\n" in req and b"Connection: close\r\n" in req


def test_tls_page(tmp_path) -> None:
    cert, key = self_signed(tmp_path)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    with canned(page(b"secret page\n"), tls=ctx) as srv:
        status, out, _ = _run(["-S", "-s", "127.0.0.1", "-p", str(srv.port), "-u", "/"])
    assert (status, out) == (0, hashlib.md5(b"secret page\n").hexdigest() + "\n")


def test_tls_against_a_plain_server_is_a_handshake_error() -> None:
    with canned(page(b"x"), eager=True) as srv:
        status, out, _ = _run(["-S", "-s", "127.0.0.1", "-p", str(srv.port), "-u", "/", "-t", "5"])
    assert (status, out) == (0, "SSL handshake/communication error connecting to\n")


def test_refused_and_empty_replies() -> None:
    assert _run(["-s", "127.0.0.1", "-p", str(closed_port()), "-u", "/"]) == (0, "Connection failed\n", "")
    with canned(b"") as srv:
        assert _run(["-s", "127.0.0.1", "-p", str(srv.port), "-u", "/"]) == (
            0, "", "no data received from remote webserver\n")
    assert len(srv.requests) == 1   # asked once, as keepalived (no retry of the GET)
    with canned(b"no header end") as srv:
        assert _run(["-s", "127.0.0.1", "-p", str(srv.port), "-u", "/"])[2] == (
            "no data received from remote webserver\n")


def test_verbose_dumps_header_body_and_digest() -> None:
    reply = page(b"hello world\n")
    with canned(reply) as srv:
        status, out, _ = _run(["-v", "-s", "127.0.0.1", "-p", str(srv.port), "-u", "/i"])
    head = reply[:-len(b"hello world\n")]
    lines = out.split("\n")
    assert lines[0] == "-----------------------[    HTTP Header Buffer    ]-----------------------"
    assert dump_buffer(head) in out
    assert "\n-----------------------[ HTTP Header Ascii Buffer ]-----------------------\n" in out
    assert out.count("6f5902ac237024bdd0c176cb93063dc4") == 1
    assert lines[-2].startswith("Global response time for [/i] = ") and lines[-2].endswith(" usecs")
