"""Command-line options, parsed the way keepalived 2.2.7's getopt_long loop parses them.

Operators keep their existing command lines (systemd units, /etc/default/keepalived), so
the option letters, long names, argument rules, prefix matching of long names, argument
permutation and the error texts follow keepalived's `parse_cmdline()`. Parsing is pure:
it returns an `Options` value plus the messages keepalived would print; `cli.py` acts.
"""

from __future__ import annotations

import syslog
from enum import Enum

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing (see Options)
if TYPE_CHECKING:
    from typing import Any

DEFAULT_CONFIG_FILE = "/etc/keepalived/keepalived.conf"

# keepalived's short option string (Debian build: VRRP, LVS, BFD, SNMP; no log-to-file).
# A leading ':' means getopt stays silent and keepalived prints its own messages.
SHORT_OPTS = ":vhlndu:DRS:f:p:i:es:mM::g::Gt::PCr:VXac:ITBb:xA:"


class Arg(Enum):
    NONE = 0
    REQUIRED = 1
    OPTIONAL = 2


# long name -> (key, argument kind); key is the short letter or a name for long-only options
LONG_OPTS: dict[str, tuple[str, Arg]] = {
    "use-file": ("f", Arg.REQUIRED),
    "vrrp": ("P", Arg.NONE),
    "check": ("C", Arg.NONE),
    "no_bfd": ("B", Arg.NONE),
    "all": ("all", Arg.NONE),
    "log-console": ("l", Arg.NONE),
    "log-detail": ("D", Arg.NONE),
    "log-facility": ("S", Arg.REQUIRED),
    "log-file": ("g", Arg.OPTIONAL),
    "all-config": ("e", Arg.NONE),
    "no-syslog": ("G", Arg.NONE),
    "umask": ("u", Arg.REQUIRED),
    "release-vips": ("X", Arg.NONE),
    "dont-release-vrrp": ("V", Arg.NONE),
    "dont-release-ipvs": ("I", Arg.NONE),
    "dont-respawn": ("R", Arg.NONE),
    "dont-fork": ("n", Arg.NONE),
    "dump-conf": ("d", Arg.NONE),
    "pid": ("p", Arg.REQUIRED),
    "vrrp_pid": ("r", Arg.REQUIRED),
    "genhash": ("T", Arg.NONE),
    "checkers_pid": ("c", Arg.REQUIRED),
    "address-monitoring": ("a", Arg.NONE),
    "bfd_pid": ("b", Arg.REQUIRED),
    "snmp": ("x", Arg.NONE),
    "snmp-agent-socket": ("A", Arg.REQUIRED),
    "core-dump": ("m", Arg.NONE),
    "core-dump-pattern": ("M", Arg.OPTIONAL),
    "namespace": ("s", Arg.REQUIRED),
    "config-id": ("i", Arg.REQUIRED),
    "signum": ("signum", Arg.REQUIRED),
    "config-test": ("t", Arg.OPTIONAL),
    "config-fd": ("config-fd", Arg.REQUIRED),
    "version": ("v", Arg.NONE),
    "help": ("h", Arg.NONE),
}


# keepalived-py's own long options. Matched only by their exact name, so they never make
# one of keepalived's abbreviations ambiguous (`--dump` still means --dump-conf).
EXTRA_LONG_OPTS: dict[str, tuple[str, Arg]] = {
    "dump-json": ("dump-json", Arg.NONE),
    "lvs-backend": ("lvs-backend", Arg.REQUIRED),
    "metrics-listen": ("metrics-listen", Arg.REQUIRED),
    "control-socket": ("control-socket", Arg.REQUIRED),
    "status": ("status", Arg.NONE),
    "json": ("json", Arg.NONE),
    "reload-preview": ("reload-preview", Arg.NONE),
    "restart": ("restart", Arg.NONE),
}


def _short_table(spec: str) -> dict[str, Arg]:
    table: dict[str, Arg] = {}
    i = 1 if spec.startswith(":") else 0
    while i < len(spec):
        letter = spec[i]
        colons = 0
        while i + 1 + colons < len(spec) and spec[i + 1 + colons] == ":":
            colons += 1
        table[letter] = (Arg.NONE, Arg.REQUIRED, Arg.OPTIONAL)[min(colons, 2)]
        i += 1 + colons
    return table


SHORT_TABLE = _short_table(SHORT_OPTS)

# syslog facilities accepted by -S: 0-7 / local0-7 map to LOG_LOCAL0-7, plus names.
_LOCAL_FACILITIES = [getattr(syslog, f"LOG_LOCAL{n}") for n in range(8)]
_NAMED_FACILITIES = {"user": syslog.LOG_USER, "daemon": syslog.LOG_DAEMON}


def parse_facility(text: str) -> int | None:
    """-S value -> syslog facility, or None when keepalived would reject it."""
    digits = text[5:] if text.startswith("local") else text
    if digits.isdigit() and 0 <= int(digits) <= 7:
        return _LOCAL_FACILITIES[int(digits)]
    return _NAMED_FACILITIES.get(text)


def parse_umask(text: str) -> int | None:
    """-u value: C strtoll base 0 (0 prefix octal, 0x hex), permission bits only."""
    t = text.strip()
    try:
        if t.lower().startswith(("0x", "-0x", "+0x")):
            value = int(t, 16)
        elif t.lstrip("+-").startswith("0") and len(t.lstrip("+-")) > 1:
            value = int(t, 8)
        else:
            value = int(t, 10)
    except ValueError:
        return None
    if value < 0 or value & ~0o777:
        return None
    return value


class Action(Enum):
    """What the command line asks for besides running the daemon."""

    RUN = "run"
    VERSION = "version"
    HELP = "help"
    SIGNUM = "signum"
    GENHASH = "genhash"
    STATUS = "status"
    RESTART = "restart"  # keepalived-py's: signal the running daemon to restart in place


#: the list-valued fields of Options: each instance gets its own lists
_LIST_FIELDS = ("errors", "warnings", "messages", "unexpected", "argv")


class Options:
    """Everything the command line can set, with keepalived's defaults.

    A plain class, not a dataclass: `--version`, `--help` and `--signum` answer from this
    module alone, and importing dataclasses (with inspect, ast, dis, tokenize) cost those
    answers about as much as the rest of the module. Keyword construction, repr and
    equality behave as the dataclass's did."""

    action: Action = Action.RUN
    config_file: str | None = None  # None: DEFAULT_CONFIG_FILE
    run_vrrp: bool = True
    run_check: bool = True
    run_bfd: bool = True
    run_all: bool = False
    log_console: bool = False
    log_detail: int = 0  # -D once: detail, twice: extra detail
    log_facility: int = syslog.LOG_DAEMON
    no_syslog: bool = False
    umask: int | None = None
    release_vips: bool = False
    dont_release_vrrp: bool = False
    dont_release_ipvs: bool = False
    dont_respawn: bool = False
    dont_fork: bool = False
    dump_conf: bool = False
    main_pidfile: str | None = None
    vrrp_pidfile: str | None = None
    checkers_pidfile: str | None = None
    bfd_pidfile: str | None = None
    address_monitoring: bool = False
    snmp: bool = False
    snmp_socket: str | None = None
    namespace: str | None = None
    core_dump: bool = False
    core_dump_pattern: str | None = None  # set by -M; "core" when -M has no value
    include_check: bool = False
    config_id: str | None = None
    config_test: bool = False
    config_test_log: str | None = None
    config_fd: int | None = None
    dump_json: bool = False  # keepalived-py extra: print the parsed config as JSON, exit
    lvs_backend: str = "auto"  # keepalived-py extra: kernel | userspace | auto (check child)
    # keepalived-py extras (observe/): Prometheus endpoint, control socket, --status [--json]
    metrics_listen: str | None = None
    control_socket: str | None = None  # None: observe.control.DEFAULT_SOCKET
    json_output: bool = False
    reload_preview: bool = False  # with -t: what a HUP with this file would change
    signum_name: str | None = None
    # Messages keepalived prints while parsing: `messages` holds all of them in order
    # (stderr); `errors` the ones that make it exit 1, `warnings` the others.
    errors: list[str]
    warnings: list[str]
    messages: list[str]
    unexpected: list[str]
    argv: list[str]

    def __init__(self, **values: Any) -> None:
        for name in _LIST_FIELDS:
            setattr(self, name, [])
        for name, value in values.items():
            if name not in self.__annotations__:
                raise TypeError(f"Options() got an unexpected keyword argument {name!r}")
            setattr(self, name, value)

    def _values(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__annotations__}

    def __repr__(self) -> str:
        return "Options(" + ", ".join(f"{k}={v!r}" for k, v in self._values().items()) + ")"

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values()  # type: ignore[attr-defined]

    __hash__ = None  # type: ignore[assignment] - mutable, as the dataclass was

    @property
    def conf_file(self) -> str:
        return self.config_file or DEFAULT_CONFIG_FILE

    def error(self, text: str) -> None:
        self.errors.append(text)
        self.messages.append(text)

    def warn(self, text: str) -> None:
        self.warnings.append(text)
        self.messages.append(text)

    @property
    def bad(self) -> bool:
        """keepalived exits 1 after the loop when any option was bad."""
        return bool(self.errors)


def _apply(opts: Options, key: str, value: str | None, shown: str) -> bool:
    """Set one option; return False when parsing must stop (an immediate action)."""
    if key == "v":
        opts.action = Action.VERSION
        return False
    if key == "h":
        opts.action = Action.HELP
        return False
    if key == "T":
        opts.action = Action.GENHASH
        return False
    if key == "signum":
        opts.action = Action.SIGNUM
        opts.signum_name = value
        return False
    simple_flags = {
        "l": "log_console", "n": "dont_fork", "d": "dump_conf", "V": "dont_release_vrrp",
        "I": "dont_release_ipvs", "R": "dont_respawn", "X": "release_vips", "G": "no_syslog",
        "a": "address_monitoring", "x": "snmp", "m": "core_dump", "e": "include_check",
    }
    if key in simple_flags:
        setattr(opts, simple_flags[key], True)
    elif key == "D":
        opts.log_detail = min(opts.log_detail + 1, 2)
    elif key == "S":
        facility = parse_facility(value or "")
        if facility is None:
            opts.warn(f"Invalid log facility '{value}'")
        else:
            opts.log_facility = facility
    elif key == "g":
        opts.error("-g requires configure option --enable-log-file")
    elif key == "u":
        mask = parse_umask(value or "")
        if mask is None:
            opts.warn(f"Invalid --umask option {value}")
        else:
            opts.umask = mask
    elif key == "t":
        opts.config_test = True
        opts.dont_respawn = True
        opts.dont_fork = True
        opts.no_syslog = True
        if value:
            opts.config_test_log = value
    elif key == "f":
        opts.config_file = value
    elif key == "P":
        opts.run_check = False
    elif key == "C":
        opts.run_vrrp = False
    elif key == "B":
        opts.run_bfd = False
    elif key == "all":
        opts.run_all = opts.run_vrrp = opts.run_check = opts.run_bfd = True
    elif key == "p":
        opts.main_pidfile = value
    elif key == "r":
        opts.vrrp_pidfile = value
    elif key == "c":
        opts.checkers_pidfile = value
    elif key == "b":
        opts.bfd_pidfile = value
    elif key == "A":
        opts.snmp_socket = value
    elif key == "M":
        opts.core_dump = True
        opts.core_dump_pattern = value or "core"
    elif key == "s":
        opts.namespace = value
    elif key == "i":
        opts.config_id = value
    elif key == "dump-json":
        opts.dump_json = True
    elif key == "lvs-backend":
        if value in ("kernel", "userspace", "auto"):
            opts.lvs_backend = value
        else:
            opts.error(f"{shown}: invalid value '{value}' (kernel, userspace or auto)")
    elif key == "metrics-listen":
        opts.metrics_listen = value
    elif key == "control-socket":
        opts.control_socket = value
    elif key == "status":
        opts.action = Action.STATUS
    elif key == "restart":
        opts.action = Action.RESTART
    elif key == "json":
        opts.json_output = True
    elif key == "reload-preview":
        opts.reload_preview = True
    elif key == "config-fd":
        try:
            opts.config_fd = int(value or "0")
        except ValueError:
            opts.config_fd = 0
    else:  # pragma: no cover - tables and this function disagree
        raise AssertionError(f"unhandled option {shown}")
    return True


def _match_long(name: str) -> tuple[str | None, str | None]:
    """getopt_long's lookup: exact name, else a unique prefix. (name, error)"""
    if name in LONG_OPTS or name in EXTRA_LONG_OPTS:
        return name, None
    hits = [n for n in LONG_OPTS if n.startswith(name)]
    if len(hits) == 1:
        return hits[0], None
    # glibc accepts an ambiguous prefix when every candidate means the same option
    if hits and len({LONG_OPTS[h] for h in hits}) == 1:
        return hits[0], None
    return None, "ambiguous" if hits else "unknown"


def parse_args(argv: list[str]) -> Options:
    """Parse argv (without the program name) as keepalived would; never exits."""
    opts = Options(argv=list(argv))
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            opts.unexpected.extend(argv[i + 1:])
            break
        if not arg.startswith("-") or arg == "-":
            opts.unexpected.append(arg)  # GNU getopt permutes these to the end
            i += 1
            continue
        if arg.startswith("--"):
            body = arg[2:]
            name, eq, inline = body.partition("=")
            long_name, problem = _match_long(name)
            if long_name is None:
                opts.error(f"Unknown option {arg}")
                i += 1
                continue
            key, kind = LONG_OPTS.get(long_name) or EXTRA_LONG_OPTS[long_name]
            value: str | None = None
            if kind is Arg.NONE:
                if eq:
                    opts.error(f"Unknown option {arg}")
                    i += 1
                    continue
            elif kind is Arg.OPTIONAL:
                value = inline if eq else None
            else:
                if eq:
                    value = inline
                elif i + 1 < len(argv):
                    i += 1
                    value = argv[i]
                # keepalived treats an empty required value (--use-file=) as missing
                if not value:
                    opts.error(f"Missing parameter for option --{long_name}")
                    i += 1
                    continue
            i += 1
            if not _apply(opts, key, value, f"--{long_name}"):
                return opts
            continue
        # a cluster of short options: -nlD, -fFILE, -f FILE, -tFILE
        j = 1
        stop = False
        while j < len(arg):
            letter = arg[j]
            kind = SHORT_TABLE.get(letter) if letter != ":" else None
            if kind is None:
                opts.error(f"Unknown option -{letter}")
                j += 1
                continue
            value = None
            if kind is Arg.REQUIRED:
                if j + 1 < len(arg):
                    value = arg[j + 1:]
                elif i + 1 < len(argv):
                    i += 1
                    value = argv[i]
                else:
                    opts.error(f"Missing parameter for option -{letter}")
                    break
                j = len(arg)
            elif kind is Arg.OPTIONAL:
                value = arg[j + 1:] or None
                j = len(arg)
            else:
                j += 1
            if not _apply(opts, letter, value, f"-{letter}"):
                stop = True
                break
        i += 1
        if stop:
            return opts
    return opts


def child_argv(opts: Options) -> list[str]:
    """The original command line, for children that parse it again (same meaning)."""
    return list(opts.argv)
