"""keepalived-py: a drop-in replacement for keepalived, in Python."""

__version__ = "0.1.0"
#: The keepalived release whose behaviour we match.
KEEPALIVED_COMPAT_VERSION = "2.2.7"
#: keepalived's version_string, as its start/stop lines and --version show it.
VERSION_STRING = f"Keepalived v{KEEPALIVED_COMPAT_VERSION} (01/16,2022)"
#: What we add after it, the way a git build adds ", git commit ...".
VERSION_SUFFIX = f", keepalived-py {__version__}"
