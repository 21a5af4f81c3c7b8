"""`keepalived-py`: the command line keepalived 2.2.7 has, with the same meaning.

Start-up follows keepalived's keepalived_main(): parse options (--help/--version/--signum
answer at once), log the start lines, read the configuration (fatal errors stop here),
pick the pid files, refuse to start twice, daemonise unless -n, write the pid file and
hand over to the supervisor, which returns when the daemon stops.
"""

from __future__ import annotations

import os
import sys

from keepalived_py import VERSION_STRING, VERSION_SUFFIX
from keepalived_py.core.options import DEFAULT_CONFIG_FILE, Action, Options, parse_args
from keepalived_py.core.signals import catch_early_stop, get_signum, ignore_until_ready

TYPE_CHECKING = False  # typing.TYPE_CHECKING without importing typing
if TYPE_CHECKING:
    from typing import Any

# --version, --help and --signum answer from the modules above alone (not even typing,
# dataclasses or platform); logging, the config pipeline, pid files and the supervisor are
# imported by the paths that use them.

EXIT_OK = 0
EXIT_FATAL = 1
EXIT_NO_CONFIG = 6  # KEEPALIVED_EXIT_NO_CONFIG
#: keepalived's umask_val (S_IXUSR | S_IRWXG | S_IRWXO): files it creates are 0600
DEFAULT_UMASK = 0o177

USAGE = f"""\
Usage: {{prog}} [OPTION...]
  -f, --use-file=FILE          Use the specified configuration file
                                default '{DEFAULT_CONFIG_FILE}'
  -P, --vrrp                   Only run with VRRP subsystem
  -C, --check                  Only run with Health-checker subsystem
  -B, --no_bfd                 Don't run BFD subsystem
      --all                    Force all child processes to run, even if have no configuration
  -l, --log-console            Log messages to local console
  -D, --log-detail             Detailed log messages
  -S, --log-facility=([0-7]|local[0-7]|user|daemon)
                               Set syslog facility to LOG_LOCAL[0-7], user or daemon (default)
  -G, --no-syslog              Don't log via syslog
  -u, --umask=MASK             umask for file creation (in numeric form)
  -X, --release-vips           Drop VIP on transition from signal.
  -V, --dont-release-vrrp      Don't remove VRRP VIPs and VROUTEs on daemon stop
  -I, --dont-release-ipvs      Don't remove IPVS topology on daemon stop
  -R, --dont-respawn           Don't respawn child processes
  -n, --dont-fork              Don't fork the daemon process
  -d, --dump-conf              Dump the configuration data
  -p, --pid=FILE               Use specified pidfile for parent process
  -r, --vrrp_pid=FILE          Use specified pidfile for VRRP child process
  -T, --genhash                Enter into genhash utility mode (this should be the first option used).
  -c, --checkers_pid=FILE      Use specified pidfile for checkers child process
  -a, --address-monitoring     Report all address additions/deletions notified via netlink
  -b, --bfd_pid=FILE           Use specified pidfile for BFD child process
  -x, --snmp                   Enable SNMP subsystem
  -A, --snmp-agent-socket=FILE Use the specified socket for master agent
  -s, --namespace=NAME         Run in network namespace NAME (overrides config)
  -m, --core-dump              Produce core dump if terminate abnormally
  -M, --core-dump-pattern=PATN Also set /proc/sys/kernel/core_pattern to PATN (default 'core')
  -e, --all-config             Error if any configuration file missing (same as includet)
  -i, --config-id id           Skip any configuration lines beginning '@' that don't match id
                                or any lines beginning @^ that do match.
                                The config-id defaults to the node name if option not used
      --signum=SIGFUNC         Return signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR, JSON
  -t, --config-test[=LOG_FILE] Check the configuration for obvious errors, output to
                                stderr by default
  -v, --version                Display the version number
  -h, --help                   Display this help message
"""
# keepalived-py's extra (exact name only): --dump-json prints the parsed config as JSON


def _err(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def python_version() -> str:
    """platform.python_version() without importing platform: the first word of sys.version."""
    return sys.version.split()[0]


def version_text() -> str:
    u = os.uname()
    return (f"{VERSION_STRING}{VERSION_SUFFIX}\n\n"
            "keepalived-py: a drop-in replacement for keepalived, in Python "
            f"{python_version()}\n\n"
            f"Running on {u.sysname} {u.release} {u.version}\n\n"
            "Config options:  LVS VRRP VRRP_AUTH JSON BFD (SNMP, DBUS: not supported)\n")


def _unsupported_notices(opts: Options) -> list[str]:
    """Options accepted for compatibility that we cannot honour: say so once each."""
    notes = []
    if opts.snmp or opts.snmp_socket:
        notes.append("SNMP is not supported by keepalived-py: -x/--snmp and -A/--snmp-agent-socket "
                     "are accepted and ignored")
    if opts.core_dump_pattern is not None:
        notes.append("-M/--core-dump-pattern: /proc/sys/kernel/core_pattern is left unchanged "
                     "by keepalived-py (core dumps enabled as with -m)")
    if opts.config_fd is not None:
        notes.append("--config-fd is an internal keepalived option; ignored")
    return notes


def config_test(opts: Options, exit_now: bool = False) -> int:
    """-t: check the configuration, report to stderr (or the -t file), exit with
    keepalived's -t status (0 ok, 4 cannot run, 5 other errors, 6 security).

    `exit_now` (a `-t` run as a command): leave with os._exit once the report is out, as
    the parsed configuration is still referenced: freeing 23,000 models one by one on the
    way out cost 15-40 ms of a large `-t`, for nothing."""
    if opts.config_test_log:
        try:
            fd = os.open(opts.config_test_log,
                         os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            _err(f"Unable to open config-test log file {opts.config_test_log} {exc.errno} - "
                 f"{exc.strerror}\n")
            return EXIT_FATAL
        os.dup2(fd, 2)
        os.close(fd)
    from keepalived_py import log as kalog

    result = load_in_namespace(opts, kalog.get_logger())
    if result is None:
        _err(f"Unable to set network namespace {opts.namespace}\n")
        return 4  # keepalived -t: cannot run
    for diag in result.diagnostics:
        _err(f"{diag}\n")
    if result.not_implemented:
        _err("parsed, not implemented:\n")
        for item in result.not_implemented:
            _err(f"  {item}\n")
    status = int(result.exit_status)
    if exit_now:
        if "logging" in sys.modules:
            sys.modules["logging"].shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    return status


def dump_json(opts: Options) -> int:
    """--dump-json (keepalived-py extra): the configuration as understood, as JSON on
    stdout, diagnostics on stderr; exit 0 unless the configuration cannot be run."""
    from keepalived_py.config.dump import dump_json as to_json
    from keepalived_py.core import configload

    result = configload.load(opts, check_interfaces=False)
    for diag in result.diagnostics:
        _err(f"{diag}\n")
    print(to_json(result.config))
    return int(result.exit_status) if result.fatal else EXIT_OK


#: where `ip netns add` (and keepalived) keep named network namespaces
NETNS_RUN_DIR = "/var/run/netns"
_CLONE_NEWNET = 0x40000000


def _set_namespace(name: str, log: Any) -> bool:
    """setns(2) into the named network namespace (keepalived's set_netns_name()), straight
    through libc: pyroute2's helper would cost its import and an `ldconfig -p` run."""
    path = name if name.startswith("/") else os.path.join(NETNS_RUN_DIR, name)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            if hasattr(os, "setns"):  # Python 3.12+
                os.setns(fd, _CLONE_NEWNET)
            else:
                import ctypes

                libc = ctypes.CDLL(None, use_errno=True)
                if libc.setns(fd, _CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, os.strerror(err))
        finally:
            os.close(fd)
        return True
    except OSError as exc:
        log.error(f"Unable to set network namespace {name} - exiting ({exc})")
        return False


def load_in_namespace(opts: Options, log: Any) -> Any:
    """Read the configuration inside the network namespace the daemon will run in (-s,
    else the config's net_namespace), so interface checks see that namespace's links.
    None when the namespace cannot be entered."""
    from keepalived_py.core import configload

    if opts.namespace and not _set_namespace(opts.namespace, log):
        return None
    result = configload.load(opts)
    config_ns = configload.global_setting(result.config, "net_namespace")
    if config_ns and not opts.namespace and not result.fatal:
        if not _set_namespace(config_ns, log):
            return None
        result = configload.load(opts)
    return result


def _core_dump() -> None:
    import resource

    try:
        resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    except (ValueError, OSError):
        pass


def run_daemon(opts: Options, prog_argv: list[str]) -> int:
    """Everything after option parsing for a normal start."""
    from keepalived_py import log as kalog
    from keepalived_py.core import configload, inplace, pidfile

    os.umask(opts.umask if opts.umask is not None else DEFAULT_UMASK)
    log = kalog.setup(kalog.LogSettings.from_options(opts))
    log.info(f"Starting {kalog.VERSION_STRING}{kalog.VERSION_SUFFIX}")
    u = os.uname()
    log.info(f"Running on {u.sysname} {u.release} {u.version} (Python {python_version()})")
    for line in kalog.command_line_lines(prog_argv):
        log.info(line)
    for note in _unsupported_notices(opts):
        log.info(note)
    if opts.core_dump:
        _core_dump()

    stopped_line = f"Stopped {kalog.VERSION_STRING}{kalog.VERSION_SUFFIX}"
    try:
        result = load_in_namespace(opts, log)
    except Exception as exc:  # noqa: BLE001
        log.error(f"Unable to read configuration {opts.conf_file}: {exc!r}")
        log.info(stopped_line)
        return EXIT_NO_CONFIG
    if result is None:
        log.info(stopped_line)
        return EXIT_FATAL
    for name in getattr(result, "files", None) or [opts.conf_file]:
        log.info(f"Opening file '{name}'.")
    log.info(f"Configuration file {opts.conf_file}")
    for diag in result.diagnostics:
        log.info(str(diag))
    if result.fatal:
        log.info(stopped_line)
        return EXIT_NO_CONFIG
    if result.not_implemented:
        log.info(f"{len(result.not_implemented)} configuration keyword(s) parsed but not "
                 "implemented yet (see keepalived-py -t)")

    config = result.config
    config_umask = configload.global_setting(config, "umask")
    if opts.umask is None and isinstance(config_umask, int):
        os.umask(config_umask)  # the config's umask applies unless -u was given
    instance = configload.instance_name(config)
    netns = configload.network_namespace(config, opts)
    if opts.namespace and configload.global_setting(config, "net_namespace"):
        log.info(f"Overriding config net_namespace '{configload.global_setting(config, 'net_namespace')}'"
                 f" with command line namespace '{opts.namespace}'")
    if instance or netns:
        ident = kalog.IDENT_PARENT + (f"_{netns}" if netns else "") + (f"_{instance}" if instance else "")
        log.info(f"Changing syslog ident to {ident}")
        log = kalog.setup(kalog.LogSettings(ident, not opts.no_syslog, opts.log_facility,
                                            opts.log_console and opts.dont_fork, opts.log_detail))
    use_pid_dir = bool(instance or netns or configload.global_setting(config, "use_pid_dir", False))
    paths = pidfile.resolve(opts, instance, use_pid_dir)
    created_dir = False
    if paths.uses_pid_dir:
        try:
            created_dir = pidfile.create_pid_dir()
        except OSError as exc:
            log.info(f"Unable to create directory {pidfile.PID_DIR} ({exc})")
    roles = configload.roles_to_run(config, opts)
    # an in-place restart: this process (same pid, already daemonised) re-executed itself
    resumed = inplace.take_marker()
    if resumed:
        log.info("Restarted in place: the children resume what runs")
    elif pidfile.keepalived_running(paths, roles, log):
        log.info("daemon is already running")
        return EXIT_OK

    if not opts.dont_fork and not resumed:
        from keepalived_py.core.daemonize import daemonize

        daemonize()
    catch_early_stop()
    try:
        pidfile.write(paths.parent)
    except OSError as exc:
        log.info(f"pidfile_write : Cannot open {paths.parent} pidfile ({exc})")
        log.info(stopped_line)
        return EXIT_OK

    status = EXIT_OK
    restart = False
    try:
        from keepalived_py.core.supervisor import Supervisor, cpu_usage_line, drive

        sup = Supervisor(opts, result, paths, log, resume=resumed)
        status = drive(sup)
        restart = sup.restarting
    except Exception:  # noqa: BLE001 - record it where a daemon's operator will look
        log.exception("Parent process failed")
        status = EXIT_FATAL
    finally:
        if not restart:
            pidfile.remove(paths.parent, only_if_pid=os.getpid())
            if created_dir:
                pidfile.remove_pid_dir()
            if opts.log_detail:
                log.info(cpu_usage_line())
            log.info(stopped_line)
    if restart:
        log.info(f"Re-executing {kalog.VERSION_STRING}{kalog.VERSION_SUFFIX} in place")
        inplace.reexec()  # returns only if exec failed
        log.info(stopped_line)
        pidfile.remove(paths.parent, only_if_pid=os.getpid())
        return EXIT_FATAL
    return status


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns (and exits with) keepalived's status."""
    ignore_until_ready()
    args = sys.argv[1:] if argv is None else list(argv)
    prog = sys.argv[0] if sys.argv and sys.argv[0] else "keepalived-py"
    if os.path.basename(prog) == "genhash":   # keepalived run as genhash (a symlink)
        from keepalived_py.check.genhash import run as genhash

        return genhash(args, prog, am_genhash=True)
    opts = parse_args(args)
    for message in opts.messages:
        _err(message + "\n")
    if opts.action is Action.VERSION:
        _err(version_text())
        return EXIT_OK
    if opts.action is Action.HELP:
        _err(USAGE.format(prog=os.path.basename(prog)))
        return EXIT_OK
    if opts.action is Action.SIGNUM:
        num = get_signum(opts.signum_name or "")
        if num is None:
            _err(f"Unknown sigfunc {opts.signum_name}\n")
            return EXIT_FATAL
        print(num)
        return EXIT_OK
    if opts.action is Action.RESTART:
        from keepalived_py.core.inplace import restart_command

        return restart_command(opts)
    if opts.action is Action.STATUS:
        from keepalived_py.core.control import status_command

        return status_command(opts)
    if opts.action is Action.GENHASH:
        from keepalived_py.check.genhash import main_from_keepalived

        return main_from_keepalived(args, os.path.basename(prog))
    if opts.unexpected:
        print("Unexpected argument(s): " + "".join(f"{a} " for a in opts.unexpected))
    if opts.bad:
        return EXIT_FATAL
    if opts.dump_json:
        return dump_json(opts)
    if opts.config_test:
        # a command run (not main([...]) in a test) leaves at once after a plain -t
        status = config_test(opts, exit_now=argv is None and not opts.reload_preview)
        if opts.reload_preview:
            from keepalived_py.core.control import preview_command

            return preview_command(opts, status)
        return status
    return run_daemon(opts, [prog, *args])


if __name__ == "__main__":
    sys.exit(main())
