"""SMTP_CHECK: greeting 220, HELO <helo_name> answered 250, QUIT answered with anything
(keepalived/check/check_smtp.c smtp_engine_thread), with aiosmtplib over a socket made and
connected here (so bindto, bind_if and fwmark apply). Each step has connect_timeout; replies
are read by aiosmtplib, which refuses lines over 8 KiB ("Response too long"), so a server
sending an endless line fails instead of growing a buffer.

Failure reasons are keepalived's, the log line being "SMTP_CHECK <reason>".

Known difference: keepalived 2.2.7 reads a reply's first line only, so a multi-line greeting
("220-...") fails its check ("Bad greeting banner"); aiosmtplib reads the whole reply and
such a server passes here.
"""

from __future__ import annotations

import asyncio

import aiosmtplib

from keepalived_py.check.kinds.base import Target, connect
from keepalived_py.check.result import Result, Status

DEFAULT_HELO = "smtpchecker.keepalived.org"


async def probe(target: Target, params=None) -> Result:
    loop = asyncio.get_running_loop()
    start = loop.time()
    server = target.pair
    helo = (getattr(params, "helo_name", None) or DEFAULT_HELO)
    sock, problem = await connect(target, target.timeout)
    if problem is not None:
        if problem.status is Status.TIMEOUT:
            return Result(Status.TIMEOUT, f"Connection timeout to server {server}", loop.time() - start)
        return Result(Status.FAILED, f"Could not connect to server {server}", loop.time() - start,
                      detail=problem.reason)
    smtp = aiosmtplib.SMTP(sock=sock, timeout=target.timeout, local_hostname=helo, start_tls=False,
                           hostname=None)
    stage = "banner"
    try:
        try:
            await smtp.connect()
        except aiosmtplib.SMTPConnectResponseError:
            return Result(Status.FAILED, f"Bad greeting banner from server {server}", loop.time() - start)
        stage = "helo"
        try:
            await smtp.helo(hostname=helo)
        except aiosmtplib.SMTPHeloError:
            return Result(Status.FAILED, f"Bad HELO response from server {server}", loop.time() - start)
        stage = "quit"
        await smtp.execute_command(b"QUIT")
    except (aiosmtplib.SMTPTimeoutError, TimeoutError):
        return Result(Status.TIMEOUT, f"Read timeout from server {server}", loop.time() - start, detail=stage)
    except aiosmtplib.SMTPResponseException as e:
        what = "Bad greeting banner" if stage == "banner" else "Bad HELO response" if stage == "helo" else None
        if what:
            return Result(Status.FAILED, f"{what} from server {server}", loop.time() - start,
                          detail=str(e.message)[:200])
        return Result(Status.FAILED, f"Read failure from server {server}", loop.time() - start)
    except (aiosmtplib.SMTPException, OSError, ValueError, UnicodeError) as e:
        return Result(Status.FAILED, f"Read failure from server {server}", loop.time() - start,
                      detail=f"{stage}: {e}"[:200])
    finally:
        smtp.close()
        if sock is not None:
            sock.close()
    return Result(Status.OK, "HELO accepted", loop.time() - start)
