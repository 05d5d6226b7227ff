"""The tracking store: table declarations, creation, and every read/write helper."""

from pt_spark.store.bootstrap import setup
from pt_spark.store.store import Store, store_for

__all__ = ["Store", "setup", "store_for"]
