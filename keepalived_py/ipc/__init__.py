"""Parent<->child messages (messages.py) over a size-limited socketpair channel (channel.py)."""
