"""The demo: a realistic tracked pipeline on the embedded default (``make demo``).

It is not part of the library's core; ``python -m pt_spark.demo`` runs it.
"""

from pt_spark.demo.pipeline import run_pipeline

__all__ = ["run_pipeline"]
