# The primary lane: Spark 4.2 + Delta 4.4 (Scala 2.13), the `spark` extra of pyproject.toml.
# Delta >= 4.1 names its Spark connector per Spark line: io.delta:delta-spark_<line>_2.13.
LANE_VENV := .venv
LANE_EXTRA := spark
SPARK_LINE := 4.2
DELTA_VERSION := 4.4.0
DELTA_ARTIFACT := delta-spark_$(SPARK_LINE)_2.13
LANE_PYTHON := $(PYTHON)
