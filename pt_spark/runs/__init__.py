"""Runs of a process: the tracker, the start rules and insert, run changes, registration, finders.

``tracker.ProcessTracker`` is the front (exported as ``pt_spark.ProcessTracker``); ``start`` holds
the start decision and the conflict-checked insert, ``changes`` every later write to a run,
``registration`` the get-or-create of a process and what it names, ``finders`` the read-only
process finders, ``heartbeat`` the background heartbeat thread.
"""
