r"""A scheduled, tracked load job for ``spark-submit`` (README: "Scheduled jobs with spark-submit").

It builds its own SparkSession (a scheduler starts it with ``spark-submit``, so ``local_spark`` is
not the way in), makes sure the tracking store exists, registers the CSV files that landed in a
folder, loads the ready ones into a Delta table and tracks all of it as one run::

    spark-submit \
        --jars /path/to/delta-spark_4.2_2.13-4.4.0.jar,/path/to/delta-storage-4.4.0.jar \
        --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
        --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
        notebooks/scheduled_job.py --store /data/pt --landing /landing/teams --output /data/teams

(or ``--packages io.delta:delta-spark_4.2_2.13:4.4.0`` instead of ``--jars``). The two Delta
``--conf`` lines are what a job needs when its own code does not set them; this one sets them in
its builder too. The exit code is 0 when the run completed. An error fails the run, records it
as a ``Process Error`` and exits 1; a session without Delta stops at once with pt_spark's
``SessionError``.
"""

from __future__ import annotations

import argparse
import sys

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from pt_spark import ProcessTracker, ProcessTrackerError, TrackerConfig, setup

#: Delta, plus the small-statement settings of ``pt_spark.session.local_spark``: tracking
#: statements touch a handful of rows, so one shuffle partition and no adaptive re-planning or
#: whole-stage code generation make them faster, and one partition per Delta log replay suits
#: tables of a few small files. Drop the last four for a job that moves a lot of data itself.
SETTINGS = {
    "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
    "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
    "spark.sql.shuffle.partitions": "1",
    "spark.databricks.delta.snapshotPartitions": "1",
    "spark.sql.adaptive.enabled": "false",
    "spark.sql.codegen.wholeStage": "false",
}


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the job's command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", required=True, help="folder of the tracking store (Delta tables)")
    parser.add_argument("--schema", default="process_tracker", help="schema of the tracking tables")
    parser.add_argument("--landing", required=True, help="folder the CSV files land in")
    parser.add_argument("--output", required=True, help="Delta table folder the rows are appended to")
    parser.add_argument("--process", default="Scheduled Teams Load", help="tracked process name")
    return parser.parse_args(argv)


def session() -> SparkSession:
    """Return the job's SparkSession: Delta-enabled, tuned for small tracking statements."""
    builder = SparkSession.builder.appName("pt_spark scheduled job")
    for key, value in SETTINGS.items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def load(spark: SparkSession, run: ProcessTracker, landing: str, output: str) -> int:
    """Register the landed files, load the ready ones into ``output``; return the rows loaded."""
    run.register_extracts_by_location(landing)
    ready = run.find_extracts_by_location(location_path=landing)  # pinned: it keeps these rows
    files = [row.full_filename for row in ready.collect()]
    if not files:
        return 0
    run.bulk_change_extract_status(ready, "loading")
    rows = spark.read.csv(files, header=True, inferSchema=True).withColumn("loaded_at", F.current_timestamp())
    rows.write.format("delta").mode("append").save(output)
    count = rows.count()
    run.bulk_change_extract_status(ready, "loaded")
    run.set_process_run_record_count(count, processing_type="insert")
    return count


def main(argv: list[str] | None = None) -> int:
    """Run the job; return the process exit code."""
    options = arguments(argv)
    spark = session()
    config = TrackerConfig(schema=options.schema, location=options.store)
    try:
        setup(spark, config=config)  # idempotent: a store that exists is left as it is
        with ProcessTracker(
            spark=spark,
            process_name=options.process,
            process_type="Load",
            tool_name="spark-submit",
            sources="Landing Folder",
            targets="Teams Table",
            schedule_frequency="daily",
            config=config,
        ) as run:  # completed at the end of the block; failed + Process Error on an exception
            count = load(spark, run, options.landing, options.output)
    except ProcessTrackerError as error:
        print(f"scheduled_job: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    print(f"scheduled_job: run {run.process_tracking_id} completed, {count} rows loaded")
    return 0


if __name__ == "__main__":
    sys.exit(main())
