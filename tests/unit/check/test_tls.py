"""SSL_GET's client TLS (check/tls.py, kinds/http.py): the SSL block's certificate, key and
password reach a server that requires a client certificate; bad files are keepalived's
init_ssl_ctx() lines and a fatal stop; sni_name / enable_sni choose the SNI; without
tls_compliant the client closes without close_notify (keepalived's quiet shutdown), with
it the alert is sent. Certificates are made by the openssl CLI in the test's tmp dir."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
import threading
from pathlib import Path

import pytest
import uvloop

from keepalived_py.check import tls
from keepalived_py.check.kinds import http
from keepalived_py.check.kinds.base import Resources, Target
from keepalived_py.check.runtime import CheckRuntime
from keepalived_py.clock import FakeClock
from keepalived_py.config.loader import load_text
from keepalived_py.config.model.checkers import SslGet, SslUrl
from keepalived_py.config.model.static import SslDefs
from tests.fakes.ipvs import FakeIpvs

T = 2.0
BODY = b"hello over tls"
PASSWORD = "s3cret-pass"


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> dict[str, Path]:
    """A CA, a server certificate and a client certificate (key encrypted with PASSWORD)."""
    d = tmp_path_factory.mktemp("pki")
    p = {n: d / n for n in ("ca.pem", "ca.key", "srv.pem", "srv.key", "cli.pem", "cli.key", "cli.csr",
                            "srv.csr", "plain.key")}
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(p["ca.key"]), "-out", str(p["ca.pem"]),
             "-days", "2", "-subj", "/CN=kpy test CA")
    for who, cn in (("srv", "localhost"), ("cli", "keepalived checker")):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(p[f"{who}.key"]), "-out", str(p[f"{who}.csr"]),
                 "-subj", f"/CN={cn}")
        _openssl("x509", "-req", "-in", str(p[f"{who}.csr"]), "-CA", str(p["ca.pem"]), "-CAkey", str(p["ca.key"]),
                 "-CAcreateserial", "-out", str(p[f"{who}.pem"]), "-days", "2")
    p["cli.key"].rename(p["plain.key"])
    _openssl("pkey", "-in", str(p["plain.key"]), "-out", str(p["cli.key"]), "-aes256", "-passout", f"pass:{PASSWORD}")
    return p


class TlsServer:
    """A blocking TLS server in a thread: one HTTP answer per connection, then it waits for
    the client's close and records whether a close_notify came ('notify') or a bare EOF
    ('eof'), the SNI it was sent and whether a client certificate was presented."""

    def __init__(self, pki: dict[str, Path], require_client_cert: bool = True) -> None:
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(pki["srv.pem"], pki["srv.key"])
        if require_client_cert:
            self.ctx.verify_mode = ssl.CERT_REQUIRED
            self.ctx.load_verify_locations(pki["ca.pem"])
        self.sni: list[str | None] = []
        self.closes: list[str] = []
        self.peers: list[bool] = []
        self.ctx.sni_callback = lambda _s, name, _c: self.sni.append(name)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.1)
        self.stopping = False
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while True:
            try:
                raw, _ = self.sock.accept()
            except TimeoutError:
                if self.stopping:
                    return
                continue
            except OSError:
                return
            raw.settimeout(10)
            try:
                conn = self.ctx.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            try:
                self.peers.append(conn.getpeercert() is not None)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))
                try:
                    rest = conn.recv(1)
                    self.closes.append("notify" if rest == b"" else "data")
                except ssl.SSLZeroReturnError:
                    self.closes.append("notify")
                except (ssl.SSLEOFError, ConnectionResetError):
                    self.closes.append("eof")
            except (ssl.SSLError, OSError):
                self.closes.append("error")
            finally:
                conn.close()

    def close(self) -> None:
        self.stopping = True
        self.thread.join(5)
        self.sock.close()


def probe(port: int, ctx: ssl.SSLContext | None, loop: str = "asyncio", vhost: str | None = None, **kw):
    target = Target("127.0.0.1", port, T, virtualhost=vhost, resources=Resources(ssl_context=ctx))
    url = kw.pop("url", SslUrl(path="/"))
    coro = http.probe(target, SslGet(url=(url,), **kw))
    return uvloop.run(coro) if loop == "uvloop" else asyncio.run(coro)


def test_client_certificate_with_an_encrypted_key(pki) -> None:
    server = TlsServer(pki)
    try:
        defs = SslDefs(certificate=str(pki["cli.pem"]), key=str(pki["cli.key"]), password=PASSWORD,
                       ca=str(pki["ca.pem"]))
        ok = probe(server.port, tls.client_context(defs))
        assert ok.ok, ok
        assert server.peers == [True]
        refused = probe(server.port, tls.client_context(None))  # keepalived's auto context: no certificate
        assert not refused.ok and refused.reason, refused
    finally:
        server.close()


def test_the_ca_never_makes_a_check_fail(pki, tmp_path) -> None:
    """keepalived loads the CA but sets no SSL_VERIFY_PEER: a server certificate the CA did
    not sign still passes (here: the CA file is the client's own certificate)."""
    server = TlsServer(pki, require_client_cert=False)
    try:
        r = probe(server.port, tls.client_context(SslDefs(ca=str(pki["cli.pem"]))))
        assert r.ok, r
    finally:
        server.close()


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_quiet_shutdown_unless_tls_compliant(pki, loop) -> None:
    server = TlsServer(pki, require_client_cert=False)
    try:
        ctx = tls.client_context(None)
        assert probe(server.port, ctx, loop).ok
        assert probe(server.port, ctx, loop, tls_compliant=True).ok
        assert probe(server.port, ctx, loop, url=SslUrl(path="/", tls_compliant=True)).ok
        server.thread.join(0.5)
        for _ in range(50):
            if len(server.closes) == 3:
                break
            threading.Event().wait(0.1)
        assert server.closes == ["eof", "notify", "notify"]
    finally:
        server.close()


def test_sni_choice(pki) -> None:
    server = TlsServer(pki, require_client_cert=False)
    try:
        ctx = tls.client_context(None)
        assert probe(server.port, ctx, vhost="www.example.com").ok  # no enable_sni: none sent
        assert probe(server.port, ctx, vhost="www.example.com", enable_sni=True).ok
        assert probe(server.port, ctx, vhost="www.example.com", sni_name="sni.example.net").ok
        assert probe(server.port, ctx, vhost="www.example.com", sni_name="").ok  # alone: the virtualhost
        assert server.sni == [None, "www.example.com", "sni.example.net", "www.example.com"]
    finally:
        server.close()


CONF = """
SSL {{
{ssl}
}}
virtual_server 192.0.2.10 443 {{
    lb_kind NAT
    protocol TCP
    real_server 192.0.2.11 443 {{
        {checker} {{
            url {{
                path /
            }}
        }}
    }}
}}
"""


def _config(ssl_lines: str, checker: str = "SSL_GET"):
    result = load_text(CONF.format(ssl=ssl_lines, checker=checker))
    assert not result.fatal, result.diagnostics
    return result.config


def test_for_config_reads_the_block_only_for_ssl_get(pki, tmp_path) -> None:
    good = _config(f"    certificate {pki['cli.pem']}\n    key {pki['cli.key']}\n    password {PASSWORD}")
    ctx = tls.for_config(good)
    assert isinstance(ctx, tls.ClientContext) and ctx.compliant is not ctx
    assert tls.for_config(_config(f"    certificate {tmp_path}/missing.pem", checker="HTTP_GET")) is None


@pytest.mark.parametrize("which,line", [
    ("certificate", "SSL error : Cant load certificate file..."),
    ("key", "SSL error : Cant load key file..."),
    ("password", "SSL error : Cant load key file..."),
    ("ca", "SSL error : Cant load CA file..."),
])
def test_unusable_files_are_keepalived_s_lines(pki, tmp_path, which, line) -> None:
    files = {"certificate": str(pki["cli.pem"]), "key": str(pki["cli.key"]), "password": PASSWORD,
             "ca": str(pki["ca.pem"])}
    if which == "password":
        files["password"] = "wrong"
    else:
        bad = tmp_path / f"bad-{which}.pem"
        bad.write_text("not pem\n")
        files[which] = str(bad)
    lines = "\n".join(f"    {k} {v}" for k, v in files.items())
    with pytest.raises(tls.SslSetupError) as err:
        tls.for_config(_config(lines))
    assert err.value.lines[0] == line
    assert err.value.lines[1:] == ["Error Initialize SSL, ctx Instance", f"  SSL  keyfile:{files['key']}",
                                   f"  SSL password:{files['password']}", f"  SSL   cafile:{files['ca']}",
                                   "Terminate..."]


def test_runtime_start_stops_fatally_on_a_bad_ssl_block(tmp_path) -> None:
    lines: list[str] = []
    rt = CheckRuntime(FakeIpvs(), FakeClock(), lines.append, rand=lambda: 0.0, run_checkers=False)
    config = _config(f"    certificate {tmp_path}/missing.pem")
    async def main() -> None:
        try:
            await rt.start(config)
        finally:
            await rt.stop()  # as the daemon's finally does: nothing was started, nothing fails

    with pytest.raises(SystemExit) as stop:
        asyncio.run(main())
    assert stop.value.code == 1
    at = lines.index("Initializing ipvs")  # keepalived's order: ipvs first, then init_ssl_ctx()
    assert lines[at + 1:at + 3] == ["SSL error : Cant load certificate file...", "Error Initialize SSL, ctx Instance"]
    assert "Terminate..." in lines


def test_reload_with_a_bad_ssl_block_is_refused_and_a_good_one_taken(pki, tmp_path) -> None:
    lines: list[str] = []
    rt = CheckRuntime(FakeIpvs(), FakeClock(), lines.append, rand=lambda: 0.0, run_checkers=False)

    async def main() -> None:
        await rt.start(_config(f"    certificate {pki['cli.pem']}\n    key {pki['plain.key']}"))
        assert rt.scheduler is not None
        before = rt.scheduler.resources.ssl_context
        assert isinstance(before, tls.ClientContext)
        with pytest.raises(ValueError, match="Cant load certificate file"):
            await rt.reload(_config(f"    certificate {tmp_path}/missing.pem"))
        assert rt.scheduler.resources.ssl_context is before
        await rt.reload(_config(f"    certificate {pki['cli.pem']}\n    key {pki['cli.key']}\n    password {PASSWORD}"))
        assert rt.scheduler.resources.ssl_context is not before
        await rt.stop()

    asyncio.run(main())
