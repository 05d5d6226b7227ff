"""pt_spark installs like a library: the wheel, in a fresh virtualenv outside the repository.

``make test-wheel`` runs this module alone (marker ``wheel``; ``make test`` leaves it out): it builds
the wheel, installs ``<wheel>[spark]`` into a temporary virtualenv (pip's cache makes pyspark fast
after the first time), and drives a tracked run from Python and from the ``pt-spark`` script, from
a working directory outside the checkout. The Delta jars then come from Maven through Spark's Ivy
resolution into the persistent cache ``~/.cache/pt_spark/ivy`` (downloaded once per machine).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

pytestmark = pytest.mark.wheel

REPO_ROOT = Path(__file__).resolve().parent.parent
SCRIPT = textwrap.dedent(
    """
    import json, sys
    from pt_spark import ProcessTracker, TrackerConfig, setup
    from pt_spark.session import local_spark

    spark = local_spark("pt_spark_wheel")
    cfg = TrackerConfig(schema="pt_wheel", location=sys.argv[1])
    setup(spark, config=cfg)
    run = ProcessTracker(spark=spark, process_name="Wheel Load", process_type="Load",
                         actor_name="wheel-bot", tool_name="Spark", config=cfg)
    run.set_process_run_record_count(7)
    run.change_run_status("completed")
    row = spark.sql(
        "SELECT s.process_status_name, r.process_run_record_count FROM pt_wheel.process_tracking r"
        " JOIN pt_wheel.process_status_lkup s ON r.process_status_id = s.process_status_id"
        f" WHERE r.process_tracking_id = {int(run.process_tracking_id)}").first()
    import pt_spark
    print("RESULT " + json.dumps({
        "status": row[0], "count": row[1], "module": pt_spark.__file__,
        "packages": spark.conf.get("spark.jars.packages", ""),
        "ivy": spark.conf.get("spark.jars.ivy", ""),
        "java_options": spark.conf.get("spark.driver.extraJavaOptions"),
    }))
    spark.stop()
    """
)


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: int = 900) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args}\nstdout:\n{done.stdout[-3000:]}\nstderr:\n{done.stderr[-6000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh virtualenv (outside the repo) with the freshly built wheel and its ``spark`` extra."""
    base = tmp_path_factory.mktemp("wheel")
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PT_SPARK_", "PYTHON"))}
    env.pop("VIRTUAL_ENV", None)
    _run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(base / "dist"), str(REPO_ROOT)],
        base,
        env,
    )
    (wheel,) = (base / "dist").glob("pt_spark-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "pt_spark/conf/log4j2.properties" in names
    assert "pt_spark/conf/process_tracker_config.ini" in names
    assert "pt_spark/lineage/PtSparkRunFacet.json" in names  # the facet schema, read as package data
    venv = base / "venv"
    _run([sys.executable, "-m", "venv", str(venv)], base, env)
    python = venv / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", f"{wheel}[spark]"], base, env)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv, env


def test_a_tracked_run_from_python_outside_the_repo(installed, tmp_path):
    venv, env = installed
    work = tmp_path / "work"
    work.mkdir()
    out = _run([str(venv / "bin" / "python"), "-c", SCRIPT, str(tmp_path / "store")], work, env)
    result = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT "))[7:])
    assert result["status"] == "completed"
    assert result["count"] == 7
    assert Path(result["module"]).resolve().is_relative_to(venv.resolve())
    assert "io.delta:delta-spark_" in result["packages"]
    assert result["ivy"].endswith("pt_spark/ivy")
    log4j = result["java_options"].split("-Dlog4j2.configurationFile=file:")[1].split()[0]
    assert Path(log4j).resolve().is_relative_to(venv.resolve()) and Path(log4j).is_file()
    assert not (work / "spark-warehouse").exists() and not (work / "metastore_db").exists()


def test_the_cli_outside_the_repo(installed, tmp_path):
    venv, env = installed
    store = str(tmp_path / "cli_store")
    script = str(venv / "bin" / "pt-spark")
    assert "Usage: pt-spark" in _run([script, "--help"], tmp_path, env)
    assert "Tracking store ready" in _run([script, "setup", "--location", store], tmp_path, env)
    runs = _run([script, "runs", "--location", store], tmp_path, env)
    assert "Traceback" not in runs
