"""Unit tests for the core process machinery (options, logging, pid files, IPC, dumps)."""
