"""iproute2's name tables, read the way keepalived 2.2.7 reads them (lib/rttables.c).

A route or rule line may name a table, protocol, scope, realm, dsfield or interface group
by a word from /etc/iproute2/<file> or by a number. The config models resolve such words
to numbers here, once, while parsing; everything after them (the plan, the netlink
adapter) sees numbers only.

keepalived 2.2.7 reads only /etc/iproute2/<file> itself: not the `<file>.d/` directories
(iproute2 reads those since 4.4, keepalived only from 2.3.2) nor /usr/share/iproute2 or
/usr/lib/iproute2. Where the file lacks an id of the built-in defaults (rt_tables,
rt_protos, rt_scopes), the built-in name is added, as keepalived's add_default() does.
"""

from __future__ import annotations

from keepalived_py.config.numbers import strtoul, ulong_word

IPROUTE2_DIR = "/etc/iproute2/"

U32_MAX = 0xFFFFFFFF
#: RTPROT_KEEPALIVED: the protocol keepalived puts on the routes and rules it tracks
RTPROT_KEEPALIVED = 18

#: route types (RTN_*), by keepalived's rtntypes[] names
RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST, RTN_ANYCAST, RTN_MULTICAST = 1, 2, 3, 4, 5
RTN_BLACKHOLE, RTN_UNREACHABLE, RTN_PROHIBIT, RTN_THROW, RTN_NAT, RTN_XRESOLVE = 6, 7, 8, 9, 10, 11
RTN_TYPES: dict[str, int] = {
    "local": RTN_LOCAL, "nat": RTN_NAT, "broadcast": RTN_BROADCAST, "brd": RTN_BROADCAST,
    "anycast": RTN_ANYCAST, "multicast": RTN_MULTICAST, "prohibit": RTN_PROHIBIT,
    "unreachable": RTN_UNREACHABLE, "blackhole": RTN_BLACKHOLE, "xresolve": RTN_XRESOLVE,
    "unicast": RTN_UNICAST, "throw": RTN_THROW,
}
#: the name keepalived prints for a type number (first of its names)
RTN_NAMES: dict[int, str] = {}
for _name, _num in RTN_TYPES.items():
    RTN_NAMES.setdefault(_num, _name)

_DEFAULTS: dict[str, dict[str, int]] = {
    "rt_tables": {"default": 253, "main": 254, "local": 255},
    "rt_scopes": {"global": 0, "nowhere": 255, "host": 254, "link": 253, "site": 200},
    "rt_protos": {"none": 0, "redirect": 1, "kernel": 2, "boot": 3, "static": 4, "gated": 8, "ra": 9,
                  "mrt": 10, "zebra": 11, "bird": 12, "babel": 42, "dnrouted": 13, "xorp": 14, "ntk": 15,
                  "dhcp": 16},
    "rt_dsfield": {},
    "rt_realms": {},
    "group": {},
}
#: the largest id each file may give (keepalived's `max` argument to find_entry)
MAXIMA = {"rt_tables": U32_MAX, "rt_scopes": 255, "rt_protos": 255, "rt_dsfield": 255, "rt_realms": 255,
          "group": 0x7FFFFFFF}
_cache: dict[str, dict[str, int]] = {}


def _number(word: str) -> int | None:
    """C strtoul base 0 over the whole word (0x.. hex, 0.. octal; a '-' wraps as in C), as
    keepalived's find_entry() reads a number; None when the word is not all number."""
    if not word:
        return None
    c = strtoul(word, 0)
    return None if c.rest else c.value


def names(kind: str) -> dict[str, int]:
    """The word -> number table of one iproute2 file (`rt_tables`, `rt_protos`, ...)."""
    cached = _cache.get(kind)
    if cached is not None:
        return cached
    table: dict[str, int] = {}
    try:
        with open(IPROUTE2_DIR + kind, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                words = line.split("#", 1)[0].split()
                if len(words) != 2:
                    continue
                num = ulong_word(words[0])
                if num is None or num > MAXIMA[kind]:
                    continue
                table.setdefault(words[1], num)
    except OSError:
        pass
    ids = set(table.values())
    for name, num in _DEFAULTS[kind].items():
        if num not in ids:
            table.setdefault(name, num)
    _cache[kind] = table
    return table


def rt_lookup(kind: str, word: str) -> int | None:
    """keepalived's find_rttables_*: a number (C base 0) up to the kind's maximum, or a known name."""
    num = _number(word)
    if num is not None:
        # keepalived keeps the low 32 bits of strtoul's value before the range check
        num &= 0xFFFFFFFF
        return num if num <= MAXIMA[kind] else None
    return names(kind).get(word)


def realms(text: str) -> int | None:
    """keepalived's get_realms: `DST` or `SRC/DST` (names from rt_realms) as FRA_FLOW/RTA_FLOW,
    the source realm in the high 16 bits."""
    first, sep, second = text.partition("/")
    a = rt_lookup("rt_realms", first)
    if a is None:
        return None
    if not sep:
        return a
    b = rt_lookup("rt_realms", second)
    return None if b is None else (a << 16) | b


def format_realms(value: int) -> str:
    """The realms word that reads back as `value`."""
    return f"{value >> 16}/{value & 0xFFFF}" if value >> 16 else str(value)


def rtn_type(word: str) -> int | None:
    """keepalived's find_rttables_rtntype: a type name or a number up to 255."""
    if word in RTN_TYPES:
        return RTN_TYPES[word]
    num = ulong_word(word)
    if num is None or num > 255:
        return None
    return num
