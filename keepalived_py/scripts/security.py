"""Script users and script security, as keepalived 2.2.7 lib/notify.c does them.

- `resolve_user` is set_uid_gid(): a user's uid and primary gid, or the named group's gid;
- `default_script_user` is get_default_script_user(): global `script_user`, else
  keepalived_script if that user exists, else keepalived's own uid/gid;
- `check_script_secure` is check_script_secure() with check_security(): path search for a
  bare name, realpath, executable bit for the user, and, when the script runs with root
  privileges (uid or gid 0, or set-uid/gid root), every component of the path must be owned
  by root and not writable by group (non-root group) or others (directories with the sticky
  bit excepted). Insecure scripts are disabled only when enable_script_security is set;
- `SECURITY_VIOLATION` is the message vrrp.c check_vrrp_script_security() reports when any
  script would run and script security is not enabled (a CONFIG_SECURITY_ERROR).

Deviation: keepalived switches its effective uid/gid to the script user for the path
search and realpath(); we stat as ourselves and apply keepalived's is_executable() rule to
the user's ids (the difference only shows with directories the script user cannot search).
"""

from __future__ import annotations

import errno
import grp
import os
import pwd
import stat
from collections.abc import Callable
from dataclasses import dataclass, field

SC_INSECURE = 0x01
SC_ISSCRIPT = 0x02
SC_INHIBIT = 0x04
SC_NOTFOUND = 0x08
SC_EXECUTABLE = 0x10
SC_EXECABLE = 0x20
SC_SYSTEM = 0x40

DEFAULT_SCRIPT_USER = "keepalived_script"
SECURITY_VIOLATION = "SECURITY VIOLATION - scripts are being executed but script_security not enabled."
INSECURE_SUFFIX = " There are insecure scripts."
_CS_PATH = "/bin:/usr/bin"
_NAME_MAX = 255
_PATH_MAX = 4096

Log = Callable[[str], None]


def _nolog(_msg: str) -> None:
    pass


class ScriptUserError(LookupError):
    """A user or group keepalived cannot resolve; str() is keepalived's log text."""


def resolve_user(username: str, groupname: str | None = None) -> tuple[int, int]:
    """set_uid_gid(): (uid, gid) of `username`, gid from `groupname` if given."""
    try:
        pw = pwd.getpwnam(username)
    except KeyError:
        raise ScriptUserError(f"Script user '{username}' does not exist") from None
    gid = pw.pw_gid
    if groupname is not None:
        try:
            gid = grp.getgrnam(groupname).gr_gid
        except KeyError:
            raise ScriptUserError(f"Script group '{groupname}' does not exist") from None
    return pw.pw_uid, gid


def default_script_user(script_user: str | None = None, script_group: str | None = None,
                        script_security: bool = False) -> tuple[int, int]:
    """get_default_script_user(). Raises ScriptUserError when keepalived would fail: a
    configured script_user that does not resolve, or no keepalived_script user while
    script security is enabled ("Unable to set default user keepalived_script for script")."""
    if script_user is not None:
        return resolve_user(script_user, script_group)
    try:
        return resolve_user(DEFAULT_SCRIPT_USER)
    except ScriptUserError:
        if script_security:
            raise ScriptUserError(f"Unable to set default user {DEFAULT_SCRIPT_USER} for script") from None
        return os.geteuid(), os.getegid()


def is_executable(st: os.stat_result, uid: int, gid: int) -> bool:
    """lib/notify.c is_executable()."""
    mode = st.st_mode
    return bool((uid == 0 and mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH))
                or (uid == st.st_uid and mode & stat.S_IXUSR)
                or (uid != st.st_uid and ((gid == st.st_gid and mode & stat.S_IXGRP)
                                          or (gid != st.st_gid and mode & stat.S_IXOTH))))


def find_path(name: str, uid: int, gid: int, log: Log = _nolog,
              path: str | None = None) -> tuple[int, str | None]:
    """lib/notify.c find_path() (glibc's execvp search): (0, full path) or (errno, None)."""
    if not name:
        return errno.ENOENT, None
    if len(name) >= _PATH_MAX:
        return errno.ENAMETOOLONG, None
    if "/" in name:
        return 0, name
    if len(name) > _NAME_MAX:
        return errno.ENAMETOOLONG, None
    search = path if path is not None else os.environ.get("PATH", _CS_PATH)
    got_eacces = False
    for directory in search.split(":"):
        candidate = f"{directory}/{name}" if directory else name
        try:
            st = os.stat(candidate)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or not is_executable(st, uid, gid):
            got_eacces = True
            continue
        log(f"WARNING - script `{name}` resolved by path search to `{candidate}`. Please specify full path.")
        return 0, candidate
    return (errno.EACCES if got_eacces else errno.ENOENT), None


def check_security(filename: str, using_script_security: bool, log: Log = _nolog) -> int:
    """lib/notify.c check_security(): every path component root-owned and not writable."""
    prefixes: list[str] = []
    pos = 0
    while True:
        slash = filename.find("/", pos)
        if slash == -1:
            break
        prefixes.append(filename[:slash] if slash else "/")
        pos = slash + 1
    items = [(p, True) for p in prefixes] + [(filename, False)]
    for item, is_dir_part in items:
        try:
            st = os.lstat(item)
        except OSError as e:
            if e.errno in (errno.EACCES, errno.ELOOP, errno.ENOENT, errno.ENOTDIR):
                log(f"check_script_secure could not find script '{filename}' - disabling")
            else:
                log(f"check_script_secure('{filename}') returned errno {e.errno} - {os.strerror(e.errno)} - disabling")
            return SC_NOTFOUND
        mode = st.st_mode
        if (is_dir_part and not stat.S_ISDIR(mode)) or (
                not is_dir_part and not stat.S_ISREG(mode) and not stat.S_ISLNK(mode)):
            log(f"Wrong file type found in script path '{filename}'.")
            return SC_INHIBIT
        writable_kind = (stat.S_ISDIR(mode) and not mode & stat.S_ISVTX) or stat.S_ISREG(mode)
        writable = (st.st_gid and mode & stat.S_IWGRP) or mode & stat.S_IWOTH
        if st.st_uid or (writable_kind and writable):
            log(f"Unsafe permissions found for script '{filename}'"
                f"{' - disabling' if using_script_security else ''}.")
            return SC_INSECURE | (SC_INHIBIT if using_script_security else 0)
    return 0


def _has_shebang_or_elf(path: str) -> bool:
    """What keepalived asks libmagic: can the file go to execve() directly?"""
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError:
        return True
    return head[:2] == b"#!" or head == b"\x7fELF"


@dataclass
class ScriptCheck:
    """The outcome of check_script_secure() for one script."""

    flags: int
    argv: list[str]
    messages: list[str] = field(default_factory=list)

    @property
    def runnable(self) -> bool:
        """check_notify_script_secure(): not inhibited, found, and executable."""
        if self.flags & SC_SYSTEM:
            return True
        return not self.flags & (SC_INHIBIT | SC_NOTFOUND) and bool(self.flags & SC_EXECUTABLE)

    @property
    def execable(self) -> bool:
        """Run with execve() (else through /bin/sh -c as keepalived's system())."""
        return bool(self.flags & SC_EXECABLE)


def check_script_secure(argv: list[str], uid: int, gid: int, script_security: bool,
                        our_uid: int | None = None, our_gid: int | None = None) -> ScriptCheck:
    """lib/notify.c check_script_secure() for a script run as uid:gid."""
    messages: list[str] = []
    log = messages.append
    argv = list(argv)
    if not argv:
        return ScriptCheck(SC_NOTFOUND, argv, ["Unable to parse script"])
    our_uid = os.geteuid() if our_uid is None else our_uid
    our_gid = os.getegid() if our_gid is None else our_gid
    first = argv[0]
    # "</path" (maybe blanks between): bash's redirection-only file test, run through system()
    if first.startswith("<") and first[1:].lstrip(" \t").startswith("/"):
        return ScriptCheck(SC_SYSTEM, argv, messages)
    if "/" not in first:
        ret, found = find_path(first, uid, gid, log)
        if ret:
            if ret == errno.EACCES:
                log(f"Permissions failure for script {first} in path - disabling")
            else:
                log(f"Cannot find script {first} in path - disabling")
            return ScriptCheck(SC_NOTFOUND, argv, messages)
        argv[0] = first = found  # type: ignore[assignment]
    try:
        new_path = os.path.realpath(first, strict=True)
    except OSError as e:
        log(f"Script {first} cannot be accessed - {os.strerror(e.errno or errno.ENOENT)}")
        return ScriptCheck(SC_NOTFOUND, argv, messages)
    real_file_path: str | None = None
    if first != new_path:
        orig_file = first.rsplit("/", 1)[1]
        new_dir, new_file = new_path.rsplit("/", 1)
        if orig_file != new_file:
            # keep the name the script was called by (some programs act on argv[0])
            real_file_path = new_path
            new_path = f"{new_dir}/{orig_file}"
            try:
                real_st = os.stat(real_file_path)
                same = os.stat(new_path)
                if (real_st.st_dev, real_st.st_ino) != (same.st_dev, same.st_ino):
                    raise OSError
            except OSError:
                new_path, real_file_path = real_file_path, None
        if first != new_path:
            argv[0] = first = new_path
    try:
        file_st = os.stat(real_file_path or first)
    except OSError:
        log(f"Unable to access script `{first}` - disabling")
        return ScriptCheck(SC_NOTFOUND, argv, messages)
    flags = SC_ISSCRIPT
    need_protection = False
    if is_executable(file_st, uid, gid):
        flags |= SC_EXECUTABLE
        mode = file_st.st_mode
        if (uid == 0 or gid == 0
                or (file_st.st_uid == 0 and mode & stat.S_IXUSR and mode & stat.S_ISUID)
                or (file_st.st_gid == 0 and mode & stat.S_IXGRP and mode & stat.S_ISGID)):
            need_protection = True
    else:
        log(f"WARNING - script '{first}' is not executable for uid:gid {uid}:{gid} - disabling.")
    flags |= SC_EXECABLE
    if flags & SC_EXECUTABLE and not _has_shebang_or_elf(real_file_path or first):
        log(f"Please add a #! shebang to script {first}")
        flags &= ~SC_EXECABLE
    if not need_protection:
        return ScriptCheck(flags, argv, messages)
    flags |= check_security(first, script_security, log)
    if real_file_path:
        flags |= check_security(real_file_path, script_security, log)
    return ScriptCheck(flags, argv, messages)


def security_violation(flags: int, script_security: bool) -> str | None:
    """check_vrrp_script_security()'s closing report, or None."""
    if script_security or not flags & SC_ISSCRIPT:
        return None
    return SECURITY_VIOLATION + (INSECURE_SUFFIX if flags & SC_INSECURE else "")
