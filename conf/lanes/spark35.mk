# The Spark 3.5 lane (Databricks 15.4 / 16.4 LTS, EMR 7.x, OSS Spark 3.5): pyspark 3.5.9 +
# delta-spark 3.3.3, the `spark35` extra of pyproject.toml. Delta 3.x has one connector artifact
# per Scala version, and pyspark 3.5 bundles Scala 2.12: io.delta:delta-spark_2.12.
LANE_VENV := .venv-spark35
LANE_EXTRA := spark35
SPARK_LINE := 3.5
DELTA_VERSION := 3.3.3
DELTA_ARTIFACT := delta-spark_2.12
# Python 3.12 when the machine has it (pyenv's or on PATH), so that the two lanes cover two
# Pythons; pyspark 3.5 supports Python 3.8-3.12. Otherwise the default python3.
LANE_PYTHON := $(or $(firstword $(foreach p,$(shell command -v python3.12 2>/dev/null) \
    $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12),$(shell $(p) -c 'print("$(p)")' 2>/dev/null))),$(PYTHON))
