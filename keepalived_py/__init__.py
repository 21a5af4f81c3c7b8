"""keepalived-py: a drop-in replacement for keepalived, in Python."""

__version__ = "0.1.0"
#: The keepalived release whose behaviour we match.
KEEPALIVED_COMPAT_VERSION = "2.2.7"
