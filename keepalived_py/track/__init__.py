"""Tracking and notify shared by the vrrp and check children.

script_state.py (pure rise/fall of a tracked script), events.py (pure values),
file_watch.py / process_watch.py (track_file and track_process I/O), trackers.py (the
watchers wired to a child's emit callback), notify.py (notify scripts and FIFOs). Nothing
here imports the VRRP core, so the check child can use it.
"""
