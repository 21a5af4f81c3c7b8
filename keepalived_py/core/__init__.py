"""The daemon process: CLI options, parent supervisor, child process frame, pid files,
signals, reload plumbing, daemonising and sd_notify. See docs/options.md."""
