"""OpenLineage events of pt_spark runs (opt-in: the ``lineage_transport`` setting).

``events`` builds the events as plain dicts (pure functions, no client and no Spark); ``emitter``
sends a tracker's events through the ``openlineage-python`` client, imported only when lineage
is on. See the README's "OpenLineage" section.
"""

from pt_spark.lineage.events import build_event, default_namespace, parse_parent, parse_transport, run_id

__all__ = ["build_event", "default_namespace", "parse_parent", "parse_transport", "run_id"]
