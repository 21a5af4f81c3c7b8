"""Value types and the `auth_hmac` block of keywords keepalived added after 2.2.7.

A user moving from keepalived 2.3 / 2.4 brings these keywords along; 2.2.7 rejects them as
unknown. They are declared with `since=` (schema.kw) so `-t` notes them once, and read the
way upstream's handlers read them (keepalived/core/global_parser.c, vrrp/vrrp_parser.c,
check/check_http.c, bfd/bfd_parser.c on its main branch), messages included.
"""

from __future__ import annotations

from dataclasses import dataclass

from keepalived_py.config.diagnostics import ConfigErr
from keepalived_py.config.schema import Choice, Model, ValueProblem, ValueType, kw, model
from keepalived_py.config.values import Number, say

GE = ConfigErr.GENERAL_ERROR

#: keepalived's VRRP_PRIO_OWNER; timer_expired_backup takes 1 .. owner - 1
_PRIO_OWNER = 255
#: vrrp_auth_hmac.h
HMAC_KEY_MIN = 32
HMAC_KEY_MAX = 64
HMAC_WINDOW_MIN = 1
HMAC_WINDOW_MAX = 300


class PathArg(ValueType):
    """`KEYWORD PATH`: exactly one non-empty word, else the handler's `error` and the keyword is
    ignored (state_dump_file, iproute_usr_dir ...)."""

    min_args = 0
    max_args = None

    def __init__(self, error: str, *, non_empty: bool = False):
        self.error, self.non_empty = error, non_empty

    def parse(self, args, ctx):
        if len(args) != 1 or (self.non_empty and not args[0]):
            raise ValueProblem(say(self.error, ctx), GE)
        return args[0]

    def format(self, value):
        return [value if value and " " not in value else f'"{value}"']


class OptPriority(ValueType):
    """`timer_expired_backup [HIGHEST_OTHER_PRIORITY]`: alone means 254 (the shortest take-over
    by another router); a word outside 1..254 is the handler's error, keyword ignored."""

    min_args = 0
    max_args = None
    error = ("({n}) timer_expired_backup highest_other_priority not valid! must be between 1 & "
             f"{_PRIO_OWNER - 1}")

    def parse(self, args, ctx):
        if not args:
            return _PRIO_OWNER - 1
        value = Number(1, _PRIO_OWNER - 1).read(args[0], ctx)
        if value is None:
            raise ValueProblem(say(self.error, ctx), GE)
        return value

    def format(self, value):
        return [] if value == _PRIO_OWNER - 1 else [str(value)]


class SniName(ValueType):
    """`sni_name [NAME]` (HTTP_GET / SSL_GET): turns SNI on, with NAME or, alone, the default
    name (the virtualhost, else the real server's address): "" stands for the default."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        return args[0] if args else ""

    def format(self, value):
        return [value] if value else []


@dataclass(frozen=True, slots=True)
class HmacKey:
    """One `key ID VALUE` line: VALUE is the secret as written (ASCII, `hex:...` raw bytes, or
    `file:PATH` read when the instance starts, so the secret may stay out of the config)."""

    key_id: int
    value: str

    @property
    def from_file(self) -> str | None:
        return self.value[5:] if self.value.startswith("file:") else None


def decode_key(value: str) -> bytes | None:
    """An inline key's bytes as upstream decodes them (`hex:` prefix: hex digits, else the
    ASCII text); None if the hex is malformed."""
    if value.startswith("hex:"):
        try:
            return bytes.fromhex(value[4:])
        except ValueError:
            return None
    return value.encode()


class HmacKeyType(ValueType):
    """`key ID VALUE`: ID 1..255, an inline VALUE of 32..64 bytes (a file is checked when read)."""

    min_args = 0
    max_args = None

    def parse(self, args, ctx):
        if len(args) < 2:
            raise ValueProblem(say("({n}) auth_hmac key needs an id and a value", ctx), GE)
        key_id = Number(1, 255).read(args[0], ctx)
        if key_id is None:
            raise ValueProblem(say(f"({{n}}) auth_hmac key id '{args[0]}' must be between 1 and 255", ctx), GE)
        key = HmacKey(key_id, args[1])
        if key.from_file is None:
            data = decode_key(key.value)
            length = len(data) if data is not None else 0
            if not HMAC_KEY_MIN <= length <= HMAC_KEY_MAX:
                raise ValueProblem(say(f"({{n}}) auth_hmac key {key_id} length {length} not in range "
                                       f"[{HMAC_KEY_MIN}, {HMAC_KEY_MAX}]", ctx), GE)
        return key

    def format(self, value):
        return [str(value.key_id), value.value]


class MsgChoice(Choice):
    """A fixed word with the handler's own message for another one."""

    def __init__(self, *choices: str, message: str):
        super().__init__(*choices)
        self.message = message

    def parse(self, args, ctx):
        if args[0] not in self.choices:
            raise ValueProblem(say(self.message, ctx, v=args[0]), GE)
        return args[0]


@model
class AuthHmac(Model):
    """`auth_hmac { ... }` in a vrrp_instance (keepalived 2.4.0): HMAC-SHA256 authentication of
    adverts. Parsed with upstream's defaults; keepalived-py does not sign or check adverts
    with it (support.py keeps it listed as parsed, not implemented)."""

    block_keyword = "auth_hmac"
    inherits_block_name = True

    key: tuple[HmacKey, ...] = kw(HmacKeyType(), multi=True, since="2.4.0")
    #: None: upstream picks the first key
    active_key: int | None = kw(Number(1, 255, error="({n}) auth_hmac active_key '{v}' must be between 1 and 255"),
                                since="2.4.0")
    #: seconds; None: derived from the advert interval (at least 5 s upstream)
    time_window: int | None = kw(Number(HMAC_WINDOW_MIN, HMAC_WINDOW_MAX,
                                        error=f"({{n}}) auth_hmac time_window '{{v}}' must be between "
                                              f"{HMAC_WINDOW_MIN} and {HMAC_WINDOW_MAX} seconds"),
                                 since="2.4.0")
    anti_replay: str = kw(MsgChoice("time", "monotonic",
                                    message="({n}) auth_hmac anti_replay '{v}' must be time or monotonic"),
                          default="time", since="2.4.0")
    mode: str = kw(MsgChoice("enforce", "permissive", "receive-only",
                             message="({n}) auth_hmac mode '{v}' must be enforce, permissive or receive-only"),
                   default="enforce", since="2.4.0")

