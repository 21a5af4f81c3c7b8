"""HTTP_GET and SSL_GET: one url per run (keepalived/check/check_http.c), with aiohttp.

The request is keepalived's: `GET <path> HTTP/1.0` (1.1 with http_protocol 1.1),
"User-Agent: KeepAliveClient", "Connection: close" for 1.0C and 1.1, and Host: the
virtualhost (url, checker, real server, virtual server in that order) or "address:port".
Success needs a status in the url's status_code ranges (default 200-299), then the MD5
digest of the body if one is set, then the regex (or its absence with regex_no_match).
SSL_GET never verifies the server's certificate (keepalived does not either, even with an
SSL CA); check/tls.py builds the client context from the SSL block (client certificate and
key); enable_sni sends the virtualhost as SNI, sni_name (newer keepalived) its own name;
without tls_compliant the connection closes without a close_notify, as keepalived's quiet
shutdown does.

Failures carry keepalived's words for the log line "<reason> server <rs>." ("Timeout
connecting", "HTTP status code error to", "MD5 digest error to", "Regex match failed", ...).
Bounded: each connect and read has connect_timeout, the whole request
Resources.http_total_factor x connect_timeout, the body Resources.max_response_bytes
("Response too large from"). The body is what aiohttp delivers, de-chunked: keepalived
hashes a chunked body with its chunk framing, so digests of chunked responses differ.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import socket
import ssl

import aiohttp

from keepalived_py.check import tls as tls_mod
from keepalived_py.check.kinds.base import Target, make_socket
from keepalived_py.check.result import Result, Status
from keepalived_py.check.spec import success_message

USER_AGENT = "KeepAliveClient"
_CHUNK = 16384
#: pcre2 option names keepalived accepts that Python's re has an equivalent for
_RE_FLAGS = {"caseless": re.IGNORECASE, "multiline": re.MULTILINE, "dotall": re.DOTALL,
             "extended": re.VERBOSE}

_unverified: ssl.SSLContext | None = None


def _default_ssl() -> ssl.SSLContext:
    global _unverified
    if _unverified is None:
        _unverified = tls_context()
    return _unverified


def tls_context(ssl_defs=None) -> ssl.SSLContext:
    """SSL_GET's client context from an `SSL` block (check/tls.py); tls_mod.SslSetupError when
    a file cannot be loaded."""
    return tls_mod.client_context(ssl_defs)


def sni_for(target: Target, params) -> str | None:
    """The SNI to send: sni_name's own name, else (enable_sni, or sni_name alone) the
    virtualhost; None sends none."""
    sni_name = getattr(params, "sni_name", None)
    if sni_name:
        return sni_name
    if params.enable_sni or sni_name == "":
        return target.virtualhost or None
    return None


def compile_regex(url) -> re.Pattern[bytes] | None:
    if not url.regex:
        return None
    flags = 0
    for name in url.regex_options:
        flags |= _RE_FLAGS.get(name, 0)
    return re.compile(url.regex.encode(), flags)


def request_host(target: Target) -> str:
    if target.virtualhost:
        return target.virtualhost
    addr = f"[{target.address}]" if ":" in target.address else target.address
    return f"{addr}:{target.port or 0}"


def _socket_factory(target: Target):
    def factory(addr_info) -> socket.socket:
        family, kind, proto = addr_info[0], addr_info[1], addr_info[2]
        return make_socket(target, kind or socket.SOCK_STREAM, proto, family=family)
    return factory


def check_body(url, body: bytes, pattern: re.Pattern[bytes] | None) -> str | None:
    """The failure reason for a body, or None when digest and regex are satisfied."""
    if url.digest and hashlib.md5(body).hexdigest() != url.digest:
        return "MD5 digest error to"
    if pattern is not None:
        start = url.regex_min_offset or 0
        match = pattern.search(body, start)
        if match is not None and url.regex_max_offset is not None and match.start() > url.regex_max_offset:
            match = None
        if (match is not None) == bool(url.regex_no_match):
            return "Regex match failed"
    return None



def one_request_session(connector: aiohttp.BaseConnector, timeout: aiohttp.ClientTimeout,
                        version: aiohttp.HttpVersion) -> aiohttp.ClientSession:
    """The client session of one HTTP_GET / SSL_GET attempt (and genhash's fetch): no
    Accept headers, the body as sent, and one request, as keepalived: aiohttp would resend
    a GET whose connection closed before the response."""
    session = aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False,
                                    skip_auto_headers=("Accept", "Accept-Encoding"), version=version)
    if hasattr(session, "_retry_connection"):
        session._retry_connection = False
    return session

async def probe(target: Target, params) -> Result:
    """Check url number target.url_index of the HTTP_GET / SSL_GET `params`."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    urls = params.url
    if not urls:
        return Result(Status.FAILED, "No url configured for")
    url = urls[min(target.url_index, len(urls) - 1)]
    tls = params.block_keyword == "SSL_GET"
    res = target.resources
    compliant = bool(getattr(url, "tls_compliant", None) or getattr(params, "tls_compliant", None))
    ctx = tls_mod.pick(res.ssl_context or _default_ssl(), compliant) if tls else None
    scheme = "https" if tls else "http"
    host = f"[{target.address}]" if ":" in target.address else target.address
    port = target.port or (443 if tls else 80)
    path = url.path or "/"
    if not path.startswith("/"):
        path = "/" + path
    proto = params.http_protocol or "1.0"
    headers = {"User-Agent": USER_AGENT, "Host": request_host(target)}
    if proto in ("1.0C", "1.1"):
        headers["Connection"] = "close"
    version = aiohttp.HttpVersion11 if proto == "1.1" else aiohttp.HttpVersion10
    t = target.timeout
    timeout = aiohttp.ClientTimeout(total=t * res.http_total_factor, sock_connect=t, sock_read=t)
    connector = aiohttp.TCPConnector(force_close=True, limit=1, ssl=ctx if tls else False,
                                     socket_factory=_socket_factory(target), use_dns_cache=False)
    pattern = compile_regex(url)
    body = bytearray()
    got_response = False
    short = False
    try:
        async with one_request_session(connector, timeout, version) as session:
            server_hostname = sni_for(target, params) if tls else None
            kwargs = {"server_hostname": server_hostname} if server_hostname else {}
            async with session.get(f"{scheme}://{host}:{port}{path}", headers=headers,
                                   allow_redirects=False, **kwargs) as resp:
                got_response = True
                status = resp.status
                content_length = resp.content_length
                if not url.accepts(status):
                    return Result(Status.FAILED, "HTTP status code error to", loop.time() - start,
                                  detail=str(status))
                while True:
                    try:
                        chunk = await resp.content.read(_CHUNK)
                    except aiohttp.ClientPayloadError:
                        # shorter than its Content-Length: keepalived logs the mismatch and
                        # judges what it received
                        short = True
                        break
                    if not chunk:
                        break
                    body += chunk
                    if len(body) > res.max_response_bytes:
                        return Result(Status.FAILED, "Response too large from", loop.time() - start)
    except (aiohttp.ConnectionTimeoutError, aiohttp.ServerTimeoutError, TimeoutError) as e:
        connecting = isinstance(e, aiohttp.ConnectionTimeoutError) or not got_response and \
            not isinstance(e, aiohttp.SocketTimeoutError)
        return Result(Status.TIMEOUT, "Timeout connecting" if connecting else "Timeout HTTP read",
                      loop.time() - start)
    except (aiohttp.ClientSSLError, ssl.SSLError) as e:
        return Result(Status.FAILED, "SSL handshake/communication error connecting to", loop.time() - start,
                      detail=str(e)[:200])
    except aiohttp.ClientConnectorError as e:
        return Result(Status.FAILED, "Connection failed", loop.time() - start, detail=str(e)[:200])
    except aiohttp.ServerDisconnectedError:
        reason = "Read error with" if got_response else "Read, no data received from "
        return Result(Status.FAILED, reason, loop.time() - start)
    except (aiohttp.ClientError, OSError, ValueError, UnicodeError) as e:
        return Result(Status.FAILED, "Read error with", loop.time() - start, detail=str(e)[:200])
    problem = check_body(url, bytes(body), pattern)
    detail = f"{status}, body shorter than its content-length ({len(body)} bytes)" if short else str(status)
    mismatch = (content_length, len(body)) if content_length is not None and content_length != len(body) else None
    if problem:
        return Result(Status.FAILED, problem, loop.time() - start, detail=detail, length_mismatch=mismatch)
    return Result(Status.OK, success_message(url), loop.time() - start, detail=detail, length_mismatch=mismatch)
