"""Extract files of a run: the tracker, batch work, read-only finders, lookups and locations.

``tracker.ExtractTracker`` is the front (exported as ``pt_spark.ExtractTracker``); ``batch``
and ``rows`` write many extracts in one MERGE per table, ``finders`` holds the public read-only
finders and the lookups the writers share, ``locations`` and ``paths`` name where files live.
"""
