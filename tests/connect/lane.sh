#!/usr/bin/env bash
# The Spark Connect lane (`make test-connect`): start a local Spark Connect server with Delta Lake,
# run tests/connect against it over sc://127.0.0.1:<port>, then stop the server (also when the
# tests fail or the run is interrupted).
#
# Usage: tests/connect/lane.sh <delta-jars-folder> [pytest arguments...]
# The server is the pyspark wheel's own (pyspark/jars holds spark-connect_2.13), started with
# spark-submit and the same tuning as pt_spark.session.local_spark: one shuffle partition, no UI,
# no whole-stage codegen or adaptive execution, an in-memory catalog, a throwaway warehouse.
set -euo pipefail
cd "$(dirname "$0")/../.."

jars_dir=${1:?usage: tests/connect/lane.sh <delta-jars-folder> [pytest args]}
shift
PY=${PY:-.venv/bin/python}
START_TIMEOUT=${PT_CONNECT_START_TIMEOUT:-180}

spark_home=$("$PY" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
jars=$(ls "$jars_dir"/delta-spark_*.jar "$jars_dir"/delta-storage-*.jar | paste -sd, -)
work=$(mktemp -d "${TMPDIR:-/tmp}/pt_spark_connect.XXXXXX")
port=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
log4j="$PWD/conf/log4j2.properties"
server=""

stop_server() {
    local rc=$?
    if [[ -n "$server" ]] && kill -0 "$server" 2>/dev/null; then
        kill -TERM "$server" 2>/dev/null || true
        for _ in $(seq 1 30); do kill -0 "$server" 2>/dev/null || break; sleep 1; done
        kill -KILL "$server" 2>/dev/null || true
        wait "$server" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 && -f "$work/server.log" ]]; then
        echo "--- last lines of the Spark Connect server log ($work/server.log) ---" >&2
        tail -n 40 "$work/server.log" >&2
    else
        rm -rf "$work"
    fi
    exit $rc
}
trap stop_server EXIT
trap 'exit 130' INT TERM

echo "Starting a Spark Connect server on 127.0.0.1:$port (work folder $work)"
# exec: the pid below is the server JVM itself (spark-submit and spark-class exec into java).
SPARK_HOME="$spark_home" "$spark_home/bin/spark-submit" \
    --class org.apache.spark.sql.connect.service.SparkConnectServer \
    --master 'local[2]' \
    --name pt_spark_connect_lane \
    --driver-memory 2g \
    --jars "$jars" \
    --driver-java-options "-XX:+UseSerialGC -XX:ReservedCodeCacheSize=512m -Dlog4j2.configurationFile=file:$log4j -Dderby.system.home=$work" \
    --conf spark.connect.grpc.binding.address=127.0.0.1 \
    --conf spark.connect.grpc.binding.port="$port" \
    --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
    --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
    --conf spark.sql.catalogImplementation=in-memory \
    --conf spark.sql.warehouse.dir="$work/warehouse" \
    --conf spark.local.dir="$work/tmp" \
    --conf spark.driver.host=127.0.0.1 \
    --conf spark.driver.bindAddress=127.0.0.1 \
    --conf spark.ui.enabled=false \
    --conf spark.ui.showConsoleProgress=false \
    --conf spark.sql.shuffle.partitions=1 \
    --conf spark.default.parallelism=1 \
    --conf spark.databricks.delta.snapshotPartitions=1 \
    --conf spark.sql.sources.parallelPartitionDiscovery.parallelism=1 \
    --conf spark.sql.codegen.wholeStage=false \
    --conf spark.sql.adaptive.enabled=false \
    >"$work/server.log" 2>&1 &
server=$!

started=$SECONDS
until "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null; do
    if ! kill -0 "$server" 2>/dev/null; then
        echo "The Spark Connect server exited before accepting connections." >&2
        exit 1
    fi
    if (( SECONDS - started > START_TIMEOUT )); then
        echo "The Spark Connect server did not accept connections within ${START_TIMEOUT}s." >&2
        exit 1
    fi
    sleep 1
done
echo "Spark Connect server ready after $((SECONDS - started))s"

# PT_CONNECT_TESTS picks a part of the lane (default: all of tests/connect).
PT_CONNECT_URL="sc://127.0.0.1:$port" "$PY" -m pytest ${PT_CONNECT_TESTS:-tests/connect} "$@"
