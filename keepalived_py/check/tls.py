"""SSL_GET's client TLS contexts, built as keepalived's check_ssl.c builds its one context.

Why: a real server behind SSL_GET may ask for a client certificate; keepalived's global
`SSL { password P  ca FILE  certificate FILE  key FILE }` block gives it one. Like
build_ssl_ctx(): any TLS version, our certificate chain, the key (decrypted with the
password), the CA file loaded, and the server's certificate never verified (keepalived sets
no SSL_VERIFY_PEER, so a CA does not make a check fail). The block is read only when some
SSL_GET exists (check_data->ssl_required); a file that does not load is keepalived's log
lines and a fatal stop of the check process (init_ssl_ctx() failing -> stop_check(FATAL)).

tls_compliant (keepalived 2.2.8, per SSL_GET or per url): keepalived otherwise sets
SSL_set_quiet_shutdown(), so it closes without a close_notify alert. Python has no quiet
shutdown switch; an SSLObject whose unwrap() sends nothing gives the same wire behaviour
with asyncio's and uvloop's TLS transports (both shut down through sslobj.unwrap()). Each
ClientContext therefore carries a `compliant` twin built from the same files.
"""

from __future__ import annotations

import ssl
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keepalived_py.config.model.root import KeepalivedConfig


class SslSetupError(Exception):
    """The SSL block's files cannot be used; `lines` are keepalived's log lines for it."""

    def __init__(self, lines: list[str]) -> None:
        super().__init__(lines[0] if lines else "SSL error")
        self.lines = lines


class QuietShutdownSSLObject(ssl.SSLObject):
    """SSL_set_quiet_shutdown(): closing sends no close_notify alert."""

    def unwrap(self) -> Any:  # noqa: D102 - see the class
        return None


class ClientContext(ssl.SSLContext):
    """The quiet-shutdown client context (keepalived's default) with its tls_compliant twin."""

    compliant: ssl.SSLContext


def _no_password() -> bytes:
    return b""


def _base(ssl_defs: Any, quiet: bool) -> ssl.SSLContext:
    ctx: ssl.SSLContext = ClientContext(ssl.PROTOCOL_TLS_CLIENT) if quiet else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    if quiet:
        ctx.sslobject_class = QuietShutdownSSLObject
    if ssl_defs is None:
        return ctx
    cert, key, ca = ssl_defs.certificate, ssl_defs.key, ssl_defs.ca
    password = ssl_defs.password
    if cert:
        try:
            # the chain must load on its own first: keepalived tells a bad certificate
            # file apart from a bad key file
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cert)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise SslSetupError(["SSL error : Cant load certificate file..."]) from exc
        try:
            # never OpenSSL's terminal prompt: an encrypted key without a password fails
            ctx.load_cert_chain(cert, key or None, password if password is not None else _no_password)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise SslSetupError(["SSL error : Cant load key file..."]) from exc
    elif key:
        # a key without a certificate: OpenSSL loads it alone; Python cannot, so check that
        # it is readable and say what keepalived would have said if it is not
        try:
            with open(key, "rb") as f:
                f.read(1)
        except OSError as exc:
            raise SslSetupError(["SSL error : Cant load key file..."]) from exc
    if ca:
        try:
            ctx.load_verify_locations(ca)
        except (OSError, ssl.SSLError, ValueError) as exc:
            raise SslSetupError(["SSL error : Cant load CA file..."]) from exc
    return ctx


def client_context(ssl_defs: Any = None) -> ClientContext:
    """SSL_GET's context from an `SSL` block (None: keepalived's auto-generated one, no
    client certificate). SslSetupError when a file cannot be loaded."""
    quiet = _base(ssl_defs, quiet=True)
    assert isinstance(quiet, ClientContext)
    quiet.compliant = _base(ssl_defs, quiet=False)
    return quiet


def pick(ctx: ssl.SSLContext, compliant: bool) -> ssl.SSLContext:
    """The context for one connection: the tls_compliant twin when asked for."""
    if compliant:
        return getattr(ctx, "compliant", ctx)
    return ctx


def init_lines(ssl_defs: Any, error: SslSetupError) -> list[str]:
    """init_ssl_ctx()'s report when the context cannot be built (then "Terminate...")."""
    def show(v: Any) -> str:
        return "(null)" if v is None else str(v)
    return [*error.lines, "Error Initialize SSL, ctx Instance",
            f"  SSL  keyfile:{show(ssl_defs.key)}", f"  SSL password:{show(ssl_defs.password)}",
            f"  SSL   cafile:{show(ssl_defs.ca)}", "Terminate..."]


def ssl_required(config: KeepalivedConfig) -> bool:
    """check_data->ssl_required: some real server has an SSL_GET."""
    return any(getattr(chk, "block_keyword", None) == "SSL_GET"
               for vs in getattr(config, "virtual_server", ()) for rs in vs.real_server for chk in rs.checkers)


def for_config(config: KeepalivedConfig) -> ClientContext | None:
    """The check child's SSL_GET context for `config` (None when no SSL_GET needs one).
    SslSetupError with keepalived's init_ssl_ctx() lines when the SSL block is unusable."""
    if not ssl_required(config):
        return None
    defs = getattr(config, "ssl", None)
    try:
        return client_context(defs)
    except SslSetupError as exc:
        raise SslSetupError(init_lines(defs, exc)) from exc
