"""`keepalived -T` / `genhash`: the MD5 digest of a page, to paste into an HTTP_GET or
SSL_GET url's `digest` (keepalived/check/check_genhash.c and the GENHASH paths of
check_http.c / check_ssl.c in 2.2.7).

Same options, messages, output and exit status as keepalived's: the digest as 32 lowercase
hex digits on stdout, exit 0 whatever the server did (a failure prints keepalived's words,
"Connection failed", "Timeout WEB read", ...; an empty reply "no data received from remote
webserver" on stderr), exit 1 with the usage text for a bad command line. -v adds
keepalived's hex dumps of the header, the body and the digest.

The request and the body come from the same aiohttp client HTTP_GET uses (check/kinds/
http.py), so the digest printed is the one our checker compares: like it, a chunked body is
hashed de-chunked, where keepalived hashes the chunk framing too (HTTP/1.0, genhash's
default, is never chunked). No status check, as keepalived: a 404 page has a digest too.
Also ours: a url without its leading "/" is asked with one (keepalived sends it as typed), and
a reply with bytes beyond its Content-Length is refused by aiohttp's parser (keepalived hashes
the first Content-Length bytes).
"""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import re
import socket
import ssl
import sys
import time
from dataclasses import dataclass
from typing import BinaryIO, TextIO

import aiohttp
from yarl import URL

from keepalived_py.check.kinds.base import Target, make_socket
from keepalived_py.check.kinds.http import one_request_session

#: getopt_long's table in check_genhash_parse_cmdline(): long name -> (short, takes an argument)
LONG_OPTIONS: dict[str, tuple[str, bool]] = {
    "help": ("h", False), "verbose": ("v", False), "use-ssl": ("S", False),
    "use-sni": ("I", False), "server": ("s", True), "use-virtualhost": ("V", True),
    "port": ("p", True), "url": ("u", True), "fwmark": ("m", True), "protocol": ("P", True),
    "timeout": ("t", True),
}
SHORT_OPTIONS: dict[str, bool] = {short: arg for short, arg in LONG_OPTIONS.values()}

_DELIM_BEGIN = "-----------------------["
_DELIM_END = "]-----------------------\n"
HTTP_HEADER_HEXA = _DELIM_BEGIN + "    HTTP Header Buffer    " + _DELIM_END
HTTP_HEADER_ASCII = _DELIM_BEGIN + " HTTP Header Ascii Buffer " + _DELIM_END
HTML_HEADER_HEXA = _DELIM_BEGIN + "        HTML Buffer        " + _DELIM_END
HTML_HASH = _DELIM_BEGIN + "    HTML hash resulting    " + _DELIM_END
HTML_HASH_FINAL = _DELIM_BEGIN + " HTML hash final resulting " + _DELIM_END

NO_DATA = "no data received from remote webserver\n"
USER_AGENT = "KeepAliveClient"


def usage(prog: str, am_genhash: bool) -> str:
    """genhash_usage(): printed on stderr with exit status 1."""
    return (
        f"Usage: {prog}{'' if am_genhash else ' --genhash'} COMMAND [OPTIONS]\n"
        "Commands:\n"
        "   -s server-address -p port -u url\n"
        "   -S -s server-address -p port -u url\n"
        "   -h\n\n"
        "Options:\n"
        "Either long or short options are allowed.\n"
        "   --use-ssl         -S       Use SSL connection to remote server.\n"
        "   --use-sni         -I       Use SNI during SSL handshake (uses virtualhost setting; see -V).\n"
        "   --server          -s       Use the specified remote server address.\n"
        "   --port            -p       Use the specified remote server port.\n"
        "   --url             -u       Use the specified remote server url.\n"
        "   --use-virtualhost -V       Use the specified virtualhost in GET query.\n"
        "   --verbose         -v       Use verbose mode output.\n"
        "   --help            -h       Display this short inlined help screen.\n"
        "   --fwmark          -m       Use the specified FW mark.\n"
        "   --protocol        -P       Use the specified HTTP protocol - '1.0', 1.0c', '1.1'.\n"
        "                                1.0c means 1.0 with 'Connection: close'\n"
        "   --timeout         -t       Timeout in seconds\n"
    )


@dataclass
class GenhashOptions:
    """What the command line asked for; `timeout` None is keepalived's UINT_MAX (no limit)."""

    server: str = ""
    port: int = 0
    url: str = ""
    ssl: bool = False
    sni: bool = False
    virtualhost: str | None = None
    verbose: bool = False
    fwmark: int | None = None
    protocol: str = "1.0"
    timeout: float | None = None


def _c_strtoul(text: str) -> int | None:
    """strtoul() after the leading blanks keepalived skips, rejecting what it rejects
    (trailing junk, a sign, nothing at all)."""
    start = text.lstrip(" \t")
    if not start or not start.isdigit() or not start.isascii():
        return None
    return int(start)


def _apply(opts: GenhashOptions, short: str, value: str, seen: set[str]) -> str | None:
    """One option's effect; an error line (keepalived then prints the usage) or None."""
    if short == "v":
        opts.verbose = True
    elif short == "S":
        opts.ssl = True
    elif short == "I":
        opts.sni = True
    elif short == "s":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return f"server should be an IP, not {value}\n"
        opts.server = value
    elif short == "V":
        opts.virtualhost = value
    elif short == "p":
        digits = re.fullmatch(r"[ \t\n\v\f\r]*([+-]?[0-9]+)", value)
        port = int(digits.group(1)) if digits else -1
        if not 0 < port <= 65535:
            return f"invalid port number '{value}'\n"
        opts.port = port
    elif short == "u":
        opts.url = value
    elif short == "m":
        mark = _c_strtoul(value)
        if mark is None or mark > 0xFFFFFFFF:
            return f"invalid fwmark '{value}'\n"
        opts.fwmark = mark
    elif short == "P":
        if value not in ("1.0", "1.0c", "1.0C", "1.1"):
            return f"invalid HTTP protocol version '{value}'\n"
        opts.protocol = value.upper()
    elif short == "t":
        secs = _c_strtoul(value)
        if secs is None:
            return f"invalid timeout '{value}'\n"
        opts.timeout = float(secs)
    seen.add(short)
    return None


def parse_cmdline(args: list[str]) -> tuple[GenhashOptions | None, str]:
    """getopt_long(":hvSIs:V:p:u:m:P:t:") over the arguments after -T: (options, "") or
    (None, the error lines to print before the usage). GNU getopt's ways are kept: clustered
    and attached short options, unique long prefixes, --name=value, operands moved to the
    end ("Unexpected argument(s)"), "--" ending the options."""
    opts = GenhashOptions()
    seen: set[str] = set()
    errors = ""
    bad = False
    operands: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        i += 1
        if arg == "--":
            operands.extend(args[i:])
            break
        if arg.startswith("--"):
            name, eq, inline = arg[2:].partition("=")
            matches = [n for n in LONG_OPTIONS if n == name] or [n for n in LONG_OPTIONS if n.startswith(name)]
            if len(matches) != 1:
                errors += f"Unknown option {arg}\n"
                bad = True
                continue
            short, takes = LONG_OPTIONS[matches[0]]
            if takes and not eq:
                if i >= len(args):
                    errors += f"Missing parameter for option --{matches[0]}\n"
                    bad = True
                    continue
                inline = args[i]
                i += 1
            elif not takes and eq:
                errors += f"Unknown option {arg}\n"
                bad = True
                continue
            if short == "h":
                bad = True
                continue
            err = _apply(opts, short, inline, seen)
            if err:
                return None, errors + err
            continue
        if not arg.startswith("-") or arg == "-":
            operands.append(arg)
            continue
        pos = 1
        while pos < len(arg):
            short = arg[pos]
            pos += 1
            if short not in SHORT_OPTIONS:
                errors += f"Unknown option -{short}\n"
                bad = True
                continue
            value = ""
            if SHORT_OPTIONS[short]:
                if pos < len(arg):
                    value, pos = arg[pos:], len(arg)
                elif i < len(args):
                    value = args[i]
                    i += 1
                else:
                    errors += f"Missing parameter for option -{short}\n"
                    bad = True
                    break
            if short == "h":
                bad = True
                continue
            err = _apply(opts, short, value, seen)
            if err:
                return None, errors + err
    if bad:
        return None, errors
    if operands:
        return None, errors + "Unexpected argument(s): " + " ".join(operands) + "\n"
    if not {"s", "p", "u"} <= seen:
        return None, errors
    return opts, ""


def dump_buffer(data: bytes) -> str:
    """lib/utils.c dump_buffer(): 16 bytes a line, decimal offset, " -" after 8, printable
    ASCII beside; the last line padded."""
    lines = []
    for off in range(0, len(data), 16):
        row = data[off:off + 16]
        hexes = "".join(f" {row[j]:02x}" if j < len(row) else "   " for j in range(16))
        hexes = hexes[:24] + " -" + hexes[24:]
        text = "".join(chr(b) if 0x20 <= b <= 0x7E else "." for b in row).ljust(16)
        lines.append(f"{off & 0xFFFF:04d} {hexes}   {text}\n")
    return "".join(lines)


def request_host(opts: GenhashOptions) -> str:
    """The Host header keepalived sends: the virtualhost, else address:port ([v6]:port)."""
    if opts.virtualhost:
        return opts.virtualhost
    addr = f"[{opts.server}]" if ":" in opts.server else opts.server
    return f"{addr}:{opts.port}"


def raw_header(resp) -> bytes:
    """The response head as the server sent it, rebuilt from aiohttp's raw status and header
    lines (verbose mode dumps it)."""
    version = f"HTTP/{resp.version.major}.{resp.version.minor}" if resp.version else "HTTP/1.0"
    head = f"{version} {resp.status} {resp.reason or ''}".rstrip(" ") + "\r\n"
    out = bytearray(head.encode("latin-1"))
    for name, value in resp.raw_headers:
        out += name + b": " + value + b"\r\n"
    return bytes(out + b"\r\n")


class _Printer:
    """stdout and stderr as keepalived writes them (bytes, since headers are dumped raw)."""

    def __init__(self, out: BinaryIO, err: TextIO) -> None:
        self.out = out
        self.err = err

    def text(self, s: str) -> None:
        self.out.write(s.encode("latin-1", "replace"))

    def raw(self, b: bytes) -> None:
        self.out.write(b)

    def error(self, s: str) -> None:
        self.out.flush()
        self.err.write(s)
        self.err.flush()


async def fetch(opts: GenhashOptions, pr: _Printer) -> None:
    """Connect, GET, hash the body, print: keepalived's http_connect_thread ...
    http_handle_response in genhash mode."""
    target = Target(address=opts.server, port=opts.port, fwmark=opts.fwmark)

    def factory(addr_info) -> socket.socket:
        return make_socket(target, socket.SOCK_STREAM, socket.IPPROTO_TCP, family=addr_info[0])

    ctx: ssl.SSLContext | bool = False
    if opts.ssl:
        client = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        client.check_hostname = False
        client.verify_mode = ssl.CERT_NONE
        ctx = client
    headers = {"User-Agent": USER_AGENT, "Host": request_host(opts)}
    if opts.protocol in ("1.0C", "1.1"):
        headers["Connection"] = "close"
    version = aiohttp.HttpVersion11 if opts.protocol == "1.1" else aiohttp.HttpVersion10
    timeout = aiohttp.ClientTimeout(total=None, sock_connect=opts.timeout, sock_read=opts.timeout)
    connector = aiohttp.TCPConnector(force_close=True, limit=1, ssl=ctx, socket_factory=factory,
                                     use_dns_cache=False)
    host = f"[{opts.server}]" if ":" in opts.server else opts.server
    kwargs = {"server_hostname": opts.virtualhost} if opts.ssl and opts.sni and opts.virtualhost else {}
    md5 = hashlib.md5()
    got_response = False
    got_body_eof = False
    try:
        async with one_request_session(connector, timeout, version) as session:
            # the path goes out as given, unencoded, as keepalived's "GET %s HTTP/1.x"; one
            # without its leading "/" gets it, as HTTP_GET's url paths do (check/kinds/http.py)
            path = opts.url if opts.url.startswith("/") else "/" + opts.url
            url = URL(f"{'https' if opts.ssl else 'http'}://{host}:{opts.port}{path}", encoded=True)
            async with session.get(url, headers=headers, allow_redirects=False, **kwargs) as resp:
                got_response = True
                if opts.verbose:
                    head = raw_header(resp)
                    pr.text(HTTP_HEADER_HEXA + dump_buffer(head) + HTTP_HEADER_ASCII)
                    pr.raw(head + b"\n")
                first = True
                async for chunk in resp.content.iter_any():
                    md5.update(chunk)
                    if opts.verbose:
                        pr.text((HTML_HEADER_HEXA if first else "") + dump_buffer(chunk))
                    first = False
                got_body_eof = True
    except (aiohttp.ConnectionTimeoutError, TimeoutError, aiohttp.ServerTimeoutError) as e:
        if isinstance(e, aiohttp.ConnectionTimeoutError) or (not got_response and opts.ssl and
                                                             not isinstance(e, aiohttp.SocketTimeoutError)):
            pr.text("Timeout connecting\n")
        elif not got_response:
            pr.text("Timeout WEB read\n")
        else:
            pr.text("Timeout SSL read\n" if opts.ssl else "Timeout HTTP read\n")
        return
    except (aiohttp.ClientSSLError, ssl.SSLError):
        pr.text("SSL handshake/communication error connecting to\n" if not got_response
                else "SSL read error from\n")
        return
    except aiohttp.ClientConnectorError as e:
        unreachable = getattr(e.os_error, "errno", None) in (101,)
        pr.text("HTTP_CHECK - network unreachable\n" if unreachable else "Connection failed\n")
        return
    except (aiohttp.ServerDisconnectedError, aiohttp.ClientResponseError, aiohttp.ClientPayloadError):
        # closed before a complete head (keepalived: nothing extracted) or mid-body (it
        # hashes what came)
        if not got_response:
            pr.error(NO_DATA)
            return
    except (aiohttp.ClientError, OSError) as e:
        if not got_response:
            pr.text("Read error with\n" if not isinstance(e, aiohttp.ClientOSError) else "Connection failed\n")
            return
    digest = md5.digest()
    if opts.verbose and got_body_eof:
        pr.text("\n" + HTML_HASH + dump_buffer(digest) + HTML_HASH_FINAL)
    pr.text(digest.hex() + "\n")


def run(args: list[str], prog: str = "keepalived", am_genhash: bool = False,
        out: BinaryIO | None = None, err: TextIO | None = None) -> int:
    """Genhash on the arguments after -T (or all of them when called as `genhash`): keepalived's
    exit status (0 once a request was attempted, 1 for a bad command line)."""
    err = err if err is not None else sys.stderr
    out = out if out is not None else sys.stdout.buffer
    opts, errors = parse_cmdline(args) if args else (None, "")
    if opts is None:
        err.write(errors + usage(prog, am_genhash))
        err.flush()
        return 1
    pr = _Printer(out, err)
    start = time.monotonic()
    try:
        asyncio.run(fetch(opts, pr))
    except KeyboardInterrupt:
        pass
    if opts.verbose:
        usecs = int((time.monotonic() - start) * 1e6)
        pr.text(f"\nGlobal response time for [{opts.url}] = {usecs} usecs\n")
    out.flush()
    return 0


def main_from_keepalived(argv: list[str], prog: str) -> int:
    """`keepalived -T ...`: keepalived warns when -T is not the first option and ignores the
    options before it."""
    for index, arg in enumerate(argv):
        name = arg[2:] if arg.startswith("--") else None
        if arg == "-T" or (name and len(name) >= 2 and "genhash".startswith(name)):
            if index:
                sys.stderr.write(f"Warning -- `{'-T' if name is None else 'genhash'}` not used as first "
                                 "option, previous options ignored\n")
            return run(argv[index + 1:], prog)
    return run([], prog)
