"""keepalived's `smtp_alert` mail: the subjects and bodies it sends, and an async sender.

Shared by the vrrp child (instance and sync group state changes) and the check child (real
server and virtual server changes). The text follows keepalived 2.2.7 core/smtp.c and
vrrp/vrrp_notify.c: subject "[router_id] VRRP Instance NAME - Entering MASTER state", the
body a single "=> ... <=" line, headers Date / From / Subject / X-Mailer: Keepalived / To.
The dialogue is keepalived's too: HELO (not EHLO), MAIL, one RCPT per address, DATA, QUIT,
through aiosmtplib (which dot-stuffs; keepalived's lines never start with a dot). Sending never blocks the caller's loop: each mail is a task, at most
MAX_IN_FLIGHT at once (more are dropped with a log line), and a failure is one log line in
keepalived's words, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pwd
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keepalived_py.config.model.global_defs import GlobalDefs

# keepalived's smtp.h: subject and body buffers (the text is cut to one byte less)
MAX_HEADERS_LENGTH = 256
MAX_BODY_LENGTH = 512
DEFAULT_CONNECT_TIMEOUT = 30.0
MAX_IN_FLIGHT = 16

# vrrp_notify.c vrrp_smtp_notifier() / vrrp_sync_smtp_notifier(): state -> (subject, body)
_INSTANCE_TEXT = {
    "MASTER": ("Entering MASTER state", "=> VRRP Instance is now owning VRRP VIPs <="),
    "BACKUP": ("Entering BACKUP state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
    "FAULT": ("Entering FAULT state", "=> VRRP Instance is no longer owning VRRP VIPs <="),
    "STOP": ("Stopping", "=> VRRP Instance stopping <="),
    "DELETED": ("Deleted", "=> VRRP Deleted at reload <="),
}
_GROUP_TEXT = {
    "MASTER": ("Entering MASTER state", "=> All VRRP group instances are now in MASTER state <="),
    "BACKUP": ("Entering BACKUP state", "=> All VRRP group instances are now in BACKUP state <="),
    "FAULT": ("Entering FAULT state", "=> All VRRP group instances are now in FAULT state <="),
    "STOP": ("Stopping", "=> All VRRP group instances are now stopping <="),
}


@dataclass(frozen=True, slots=True)
class Alert:
    """One mail: the full subject line and the body line."""

    subject: str
    body: str


def _subject(router_id: str | None, text: str) -> str:
    return text if router_id is None else f"[{router_id}] {text}"


def vrrp_instance_alert(router_id: str | None, iname: str, state: str) -> Alert | None:
    """The mail for an instance entering `state`; None for states keepalived sends none for."""
    text = _INSTANCE_TEXT.get(state)
    if text is None:
        return None
    return Alert(_subject(router_id, f"VRRP Instance {iname} - {text[0]}"), text[1])


def vrrp_group_alert(router_id: str | None, gname: str, state: str) -> Alert | None:
    """The mail for a sync group entering `state`; None for states keepalived sends none for."""
    text = _GROUP_TEXT.get(state)
    if text is None:
        return None
    return Alert(_subject(router_id, f"VRRP Group {gname} - {text[0]}"), text[1])


def real_server_alert(router_id: str | None, rs: str, vs: str, up: bool, body: str) -> Alert:
    """SMTP_MSG_RS: a checker changed a real server (`rs`, `vs` in keepalived's FMT_RS/FMT_VS)."""
    return Alert(_subject(router_id, f"Realserver {rs} of virtual server {vs} - "
                                     f"{'UP' if up else 'DOWN'}"), body)


def real_server_shut_alert(router_id: str | None, rs: str, vs: str, stopping: bool) -> Alert:
    """SMTP_MSG_RS_SHUT: a real server removed at reload or shut down."""
    return Alert(_subject(router_id, f"Realserver {rs} of virtual server {vs} - DOWN"),
                 "=> Shutting down <=" if stopping else "=> Removing <=")


def virtual_server_alert(router_id: str | None, vs: str, up: bool, body: str) -> Alert:
    """SMTP_MSG_VS: quorum gained or lost."""
    return Alert(_subject(router_id, f"Virtualserver {vs} - {'UP' if up else 'DOWN'}"), body)


@dataclass(frozen=True, slots=True)
class MailSettings:
    """What global_defs says about mail, with keepalived's defaults filled in."""

    host: str
    port: int
    helo: str
    sender: str
    recipients: tuple[str, ...]
    connect_timeout: float
    router_id: str | None

    @property
    def server_text(self) -> str:
        """keepalived's inet_sockaddrtopair(): "[address]:port"."""
        return f"[{self.host}]:{self.port}"

    @classmethod
    def from_global(cls, g: GlobalDefs, local_name: Callable[[], str] | None = None) -> MailSettings | None:
        """None when keepalived sends no mail: no notification_email or no smtp_server."""
        if not g.notification_email or g.smtp_server is None:
            return None
        name = (local_name or canonical_host_name)()
        sender = g.notification_email_from or f"{_user_name()}@{name}"
        return cls(host=g.smtp_server.host, port=g.smtp_server.port, helo=g.smtp_helo_name or name,
                   sender=sender, recipients=tuple(g.notification_email),
                   connect_timeout=float(g.smtp_connect_timeout or DEFAULT_CONNECT_TIMEOUT),
                   router_id=g.router_id or name)


def canonical_host_name() -> str:
    """keepalived's get_local_name(): the canonical name of uname's node name."""
    node = os.uname().nodename
    try:
        infos = socket.getaddrinfo(node, None, flags=socket.AI_CANONNAME)
    except OSError:
        return node
    return next((i[3] for i in infos if i[3]), node)


def _user_name() -> str:
    try:
        return pwd.getpwuid(os.getuid()).pw_name
    except KeyError:
        return str(os.getuid())


def message_text(settings: MailSettings, alert: Alert, when: float | None = None) -> str:
    """The DATA payload as keepalived's body_cmd() writes it (before the final ".")."""
    date = time.strftime("%a, %d %b %Y %H:%M:%S %z", time.localtime(when))
    subject = alert.subject[:MAX_HEADERS_LENGTH - 1]
    body = alert.body[:MAX_BODY_LENGTH - 1]
    return (f"Date: {date}\r\nFrom: {settings.sender}\r\nSubject: {subject}\r\n"
            f"X-Mailer: Keepalived\r\nTo: {', '.join(settings.recipients)}\r\n\r\n{body}\r\n\r\n")


class SmtpAlerter:
    """Sends alerts in the background; `log` gets keepalived's lines for failures."""

    def __init__(self, settings: MailSettings, log: Callable[[str], None],
                 detail_log: Callable[[str], None] | None = None) -> None:
        self.settings = settings
        self._log = log
        self._detail = detail_log
        self._tasks: set[asyncio.Task[None]] = set()
        self.sent = 0
        self.failed = 0

    def send(self, alert: Alert | None) -> None:
        """Queue one mail (None: nothing to send). Never waits."""
        if alert is None:
            return
        if len(self._tasks) >= MAX_IN_FLIGHT:
            self.failed += 1
            self._log(f"SMTP alert dropped: {MAX_IN_FLIGHT} alerts still being sent to "
                      f"{self.settings.server_text}.")
            return
        task = asyncio.ensure_future(self._deliver(alert))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float | None = None) -> None:
        """Wait for the mails under way (at shutdown, or in tests)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await self.drain()

    async def _deliver(self, alert: Alert) -> None:
        try:
            error = await self._dialogue(alert)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a mail must never take the child down
            error = f"SMTP alert to {self.settings.server_text} failed: {exc}"
        if error is None:
            self.sent += 1
            if self._detail is not None:
                self._detail("SMTP alert successfully sent.")
        else:
            self.failed += 1
            self._log(error)

    async def _dialogue(self, alert: Alert) -> str | None:
        import aiosmtplib  # the children that never mail never import it

        s = self.settings
        where = s.server_text
        # the TCP connection is ours, so a silent server after connect reads as keepalived's
        # "Timeout reading data" and a connect that never completes as "Timeout opening"
        try:
            sock = await _tcp_connect(s.host, s.port, s.connect_timeout)
        except TimeoutError:
            return f"Timeout opening connection to remote SMTP server {where}."
        except OSError:
            return f"SMTP connection ERROR to {where}."
        client = aiosmtplib.SMTP(sock=sock, hostname=None, timeout=s.connect_timeout,
                                 use_tls=False, start_tls=False)
        stage = "(E)SMTP"
        try:
            try:
                await client.connect()
            except aiosmtplib.SMTPConnectResponseError as exc:
                return f"Error processing {stage} cmd on SMTP server {where}. SMTP status code = {exc.code}"
            except aiosmtplib.SMTPConnectTimeoutError:
                return f"Timeout reading data to remote SMTP server {where}."
            except (aiosmtplib.SMTPConnectError, OSError):
                return f"Remote SMTP server {where} has closed the connection."
            stage = "HELO"
            await _expect(client.helo(hostname=s.helo), 250)
            stage = "MAIL"
            await _expect(client.mail(s.sender), 250)
            stage = "RCPT"
            for rcpt in s.recipients:
                await _expect(client.rcpt(rcpt), 250)
            # DATA and the message in one call: a refusal of either is logged as DATA's
            # (keepalived says BODY for a refused message; aiosmtplib does not tell them apart)
            stage = "DATA"
            await client.data(message_text(s, alert))
            stage = "QUIT"
            await _expect(client.quit(), 221)
            return None
        except aiosmtplib.SMTPResponseException as exc:
            with contextlib.suppress(Exception):
                await client.quit()
            return f"Error processing {stage} cmd on SMTP server {where}. SMTP status code = {exc.code}"
        except aiosmtplib.SMTPTimeoutError:
            return f"Timeout reading data to remote SMTP server {where}."
        except aiosmtplib.SMTPServerDisconnected:
            return f"Remote SMTP server {where} has closed the connection."
        finally:
            client.close()


async def _tcp_connect(host: str, port: int, timeout: float) -> socket.socket:
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    family, kind, proto, _, addr = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setblocking(False)
    try:
        await asyncio.wait_for(loop.sock_connect(sock, addr), timeout)
    except BaseException:
        sock.close()
        raise
    return sock


async def _expect(call, code: int):
    import aiosmtplib

    response = await call
    if response.code != code:
        raise aiosmtplib.SMTPResponseException(response.code, response.message)
    return response

