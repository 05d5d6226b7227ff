"""``python -m pt_spark.demo``: run the demo pipeline on a local Delta store (``./pt_spark_store``)."""

from pt_spark.demo.pipeline import main

main()
