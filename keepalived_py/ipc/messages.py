"""The typed messages the parent and its children exchange.

Children share no memory with the parent; everything they say to each other is one of
these small frozen records, encoded as a JSON object with a "type" field. Decoding checks
the type and every field, so a confused or hostile peer gets an IpcError, not a crash.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any, ClassVar

from keepalived_py.errors import KeepalivedPyError

#: Largest encoded message (a data dump of a large configuration fits comfortably).
MAX_MESSAGE = 8 * 1024 * 1024

#: "snapshot": the child's state as plain data, for the metrics endpoint and --status
DUMP_KINDS = ("data", "stats", "stats_clear", "json", "snapshot")
#: "preview:PATH": what a reload to PATH would change (the check child's IPVS part)
PREVIEW_PREFIX = "preview:"


class IpcError(KeepalivedPyError):
    """A message that breaks the protocol: unknown type, bad field, too large."""


@dataclass(frozen=True)
class Message:
    TYPE: ClassVar[str] = ""


@dataclass(frozen=True)
class Ready(Message):
    """Child -> parent: configuration read, running (keepalived's config-read eventfd)."""

    TYPE: ClassVar[str] = "ready"
    role: str
    pid: int


@dataclass(frozen=True)
class Reload(Message):
    """Parent -> child: the parent validated this file; reconcile to it."""

    TYPE: ClassVar[str] = "reload"
    seq: int
    config_file: str


@dataclass(frozen=True)
class ReloadDone(Message):
    """Child -> parent: reload `seq` applied (ok) or refused (the old config stays)."""

    TYPE: ClassVar[str] = "reload_done"
    seq: int
    ok: bool
    error: str = ""


@dataclass(frozen=True)
class DumpRequest(Message):
    """Parent -> child: give me your section of a dump (`kind` in DUMP_KINDS)."""

    TYPE: ClassVar[str] = "dump_request"
    seq: int
    kind: str


@dataclass(frozen=True)
class DumpReply(Message):
    """Child -> parent: the section; `text` for data/stats, `json` for the JSON dump."""

    TYPE: ClassVar[str] = "dump_reply"
    seq: int
    kind: str
    text: str = ""
    json: Any = None


@dataclass(frozen=True)
class Stop(Message):
    """Parent -> child: stop cleanly (same as SIGTERM). release=False (an in-place
    restart): leave VIPs, routes and IPVS as they are, no priority-0 advert, exit quietly;
    the successor starts with resume=True and adopts them."""

    TYPE: ClassVar[str] = "stop"
    release: bool = True


@dataclass(frozen=True)
class BfdState(Message):
    """bfd child -> parent -> vrrp / check child: a bfd_instance went Up or Down
    (keepalived's bfd_event_t over its event pipes). `vrrp` / `checker` say which processes
    the instance reports to; `sent_time` is the sender's CLOCK_MONOTONIC, for the
    "delivered in N usec" detail line."""

    TYPE: ClassVar[str] = "bfd_state"
    name: str
    up: bool
    vrrp: bool = True
    checker: bool = True
    sent_time: float = 0.0


MESSAGE_TYPES: dict[str, type[Message]] = {
    cls.TYPE: cls for cls in (Ready, Reload, ReloadDone, DumpRequest, DumpReply, Stop, BfdState)
}

_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "role": (str,), "pid": (int,), "seq": (int,), "config_file": (str,), "ok": (bool,),
    "error": (str,), "kind": (str,), "text": (str,),
    "name": (str,), "up": (bool,), "vrrp": (bool,), "checker": (bool,), "sent_time": (float, int),
    "release": (bool,),
}


def encode(msg: Message) -> bytes:
    """Message -> JSON bytes (no length prefix; the channel frames it)."""
    body = {"type": msg.TYPE, **asdict(msg)}
    data = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    if len(data) > MAX_MESSAGE:
        raise IpcError(f"{msg.TYPE} message of {len(data)} bytes exceeds {MAX_MESSAGE}")
    return data


def decode(data: bytes) -> Message:
    """JSON bytes -> Message, checking the type and each field."""
    if len(data) > MAX_MESSAGE:
        raise IpcError(f"message of {len(data)} bytes exceeds {MAX_MESSAGE}")
    try:
        body = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise IpcError(f"undecodable message: {exc}") from None
    if not isinstance(body, dict):
        raise IpcError("message is not an object")
    cls = MESSAGE_TYPES.get(body.pop("type", None))  # type: ignore[arg-type]
    if cls is None:
        raise IpcError("unknown message type")
    kwargs: dict[str, Any] = {}
    for f in fields(cls):
        if f.name not in body:
            continue
        value = body.pop(f.name)
        want = _FIELD_TYPES.get(f.name)
        if want and (not isinstance(value, want) or (want == (int,) and isinstance(value, bool))):
            raise IpcError(f"{cls.TYPE}.{f.name}: bad value {value!r}")
        kwargs[f.name] = value
    if body:
        raise IpcError(f"{cls.TYPE}: unexpected fields {sorted(body)}")
    try:
        msg = cls(**kwargs)
    except TypeError as exc:
        raise IpcError(f"{cls.TYPE}: {exc}") from None
    if isinstance(msg, DumpRequest | DumpReply) and msg.kind not in DUMP_KINDS \
            and not msg.kind.startswith(PREVIEW_PREFIX):
        raise IpcError(f"unknown dump kind {msg.kind!r}")
    return msg
