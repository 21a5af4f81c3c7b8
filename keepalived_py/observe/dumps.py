"""keepalived's dump files: names, the temporary-folder rule and who writes which.

Scripts read /tmp/keepalived.data after `kill -USR1`, so names and places are keepalived's:
$TMPDIR when it is an absolute path, else /tmp; keepalived.data (VRRP), keepalived_check.data,
keepalived_bfd.data, keepalived_parent.data (USR1), keepalived.stats (USR2 / STATS_CLEAR),
keepalived.json (JSON signal). With global_defs `data_use_instance` and an instance name or
network namespace, the .data files get ".<namespace>_<instance>" before the extension.
This module only names and writes files: the text comes from the process that owns the
state (a child's dump hook, or the parent for its own data).
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from typing import Any

DEFAULT_TMP_DIR = "/tmp"

DATA = "data"
STATS = "stats"
STATS_CLEAR = "stats_clear"
JSON = "json"
#: not a file: the child's state as plain data over ipc (observe/status.py), for the
#: metrics endpoint and the control socket
SNAPSHOT = "snapshot"
#: not a file either: "preview:PATH" asks the check child what a reload to PATH would do to
#: the IPVS table (observe/ipvs_preview.py), for `-t --reload-preview`
PREVIEW = "preview:"


def is_query(kind: str) -> bool:
    """A request of the parent's views (snapshot, preview): answered as JSON, no log line."""
    return kind == SNAPSHOT or kind.startswith(PREVIEW)

# (role, kind) -> file name, as keepalived's processes name them
FILE_NAMES: dict[tuple[str, str], str] = {
    ("parent", DATA): "keepalived_parent.data",
    ("vrrp", DATA): "keepalived.data",
    ("check", DATA): "keepalived_check.data",
    ("bfd", DATA): "keepalived_bfd.data",
    ("vrrp", STATS): "keepalived.stats",
    ("vrrp", STATS_CLEAR): "keepalived.stats",
    ("vrrp", JSON): "keepalived.json",
}

#: Which children a dump signal reaches (keepalived: USR2, STATS_CLEAR, JSON: VRRP only).
ROLES_FOR_KIND: dict[str, tuple[str, ...]] = {
    DATA: ("vrrp", "check", "bfd"),
    STATS: ("vrrp",),
    STATS_CLEAR: ("vrrp",),
    JSON: ("vrrp",),
}

#: The child's log line when it prints a section, keepalived's words.
PRINT_LINES: dict[tuple[str, str], str] = {
    ("vrrp", DATA): "Printing VRRP data for process({pid}) on signal",
    ("vrrp", STATS): "Printing VRRP stats for process({pid}) on signal",
    ("vrrp", STATS_CLEAR): "Printing and clearing VRRP stats for process({pid}) on signal",
    ("vrrp", JSON): "Printing VRRP as json for process({pid}) on signal",
    ("check", DATA): "Printing checker data for process({pid}) on signal",
    ("bfd", DATA): "Printing BFD data for process({pid}) on signal",
    ("parent", DATA): "Printing parent data for process({pid}) on signal",
}


def tmp_dir(env: dict[str, str] | None = None) -> str:
    """keepalived's set_tmp_dir(): $TMPDIR if absolute, else /tmp."""
    value = (os.environ if env is None else env).get("TMPDIR", "")
    return value if value.startswith("/") else DEFAULT_TMP_DIR


@dataclass(frozen=True)
class DumpNaming:
    """What decides the file names: the temp folder and global_defs' instance settings."""

    tmp: str = DEFAULT_TMP_DIR
    data_use_instance: bool = False
    instance_name: str | None = None
    network_namespace: str | None = None
    #: global_defs state_dump_file / stats_dump_file / json_dump_file (keepalived 2.3.3,
    #: newer than 2.2.7): None keeps keepalived's name in the temporary folder
    state_file: str | None = None
    stats_file: str | None = None
    json_file: str | None = None

    @classmethod
    def current(cls, data_use_instance: bool = False, instance_name: str | None = None,
                network_namespace: str | None = None, state_file: str | None = None,
                stats_file: str | None = None, json_file: str | None = None) -> DumpNaming:
        return cls(tmp_dir(), data_use_instance, instance_name, network_namespace, state_file, stats_file,
                   json_file)


#: what each process adds to a configured state_dump_file name (keepalived_check.data ...)
_DATA_SUFFIX = {"vrrp": "", "check": "_check", "bfd": "_bfd", "parent": "_parent"}


def _insert(name: str, text: str) -> str:
    """`text` before the last '.' of a file name (at its end when it has none)."""
    dot = name.rfind(".")
    return name + text if dot < 0 else name[:dot] + text + name[dot:]


def configured_place(path: str, default_name: str, tmp: str) -> tuple[str, str]:
    """(folder, file name) for a *_dump_file path, upstream's open_dump_file() rule: a path
    ending in '/' is a folder for the usual name; an absolute one names its folder, a relative
    one lives in the temporary folder (only its last part is used)."""
    if path.startswith("/"):
        folder = path if path.endswith("/") else path[:path.rfind("/")]
    else:
        folder = tmp
    name = default_name if path.endswith("/") else path.rsplit("/", 1)[-1]
    return folder.rstrip("/") or "/", name


def file_for(role: str, kind: str, naming: DumpNaming) -> str | None:
    """Full path of the file `role` writes for `kind`, or None if it writes none."""
    name = FILE_NAMES.get((role, kind))
    if name is None:
        return None
    folder = naming.tmp
    configured = {DATA: naming.state_file, STATS: naming.stats_file, STATS_CLEAR: naming.stats_file,
                  JSON: naming.json_file}.get(kind)
    if configured:
        if kind == DATA:  # a template: each process adds its part
            folder, name = configured_place(configured, "keepalived.data", naming.tmp)
            name = _insert(name, _DATA_SUFFIX.get(role, ""))
        else:
            folder, name = configured_place(configured, name, naming.tmp)
    if (kind == DATA and naming.data_use_instance
            and (naming.instance_name or naming.network_namespace)):
        ns = naming.network_namespace or ""
        sep = "_" if naming.instance_name and naming.network_namespace else ""
        name = _insert(name, f".{ns}{sep}{naming.instance_name or ''}")
    return os.path.join(folder, name)


def current_umask() -> int:
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def write_file(path: str, text: str) -> None:
    """Replace `path` atomically (readers never see half a dump) and never through a
    symlink planted at the final name; mode 0666 & ~umask as keepalived's fopen_safe()
    (so 0600 under keepalived's default umask 0177)."""
    folder = os.path.dirname(path) or "."
    fd, tmp = tempfile.mkstemp(prefix=".kpy-dump-", dir=folder)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o666 & ~current_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def render(kind: str, content: Any) -> str:
    """A section as file text: JSON for the JSON dump, text otherwise."""
    if kind == JSON:
        if isinstance(content, str):  # already keepalived's bytes (observe.vrrp.json_text)
            return content
        return json.dumps(content if content is not None else [], indent=2) + "\n"
    text = content if isinstance(content, str) else str(content or "")
    return text if not text or text.endswith("\n") else text + "\n"


def write_section(role: str, kind: str, content: Any, naming: DumpNaming) -> str | None:
    """Write one process's section to its keepalived file; returns the path written."""
    path = file_for(role, kind, naming)
    if path is None:
        return None
    write_file(path, render(kind, content))
    return path
