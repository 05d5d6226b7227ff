"""Shared fixtures: one SparkSession for the whole run, one tracking store per test module."""

from __future__ import annotations

import fcntl
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from pt_spark import TrackerConfig, setup
from pt_spark.session import local_spark
from pt_spark.store import store_for

#: tests/connect is the Spark Connect lane: `make test-connect` starts its server and sets
#: PT_CONNECT_URL. Without it (``make test``, a bare ``pytest``) the folder is not collected.
collect_ignore = [] if os.environ.get("PT_CONNECT_URL") else ["connect"]


#: One session runs every test module, each on a store of its own (46 tables). With 2g, a broadcast
#: in the demo module ran out of driver memory 35 min into a CI run; a heap probe of one worker saw
#: a live set of 650-850 MB that swung by ~200 MB within minutes. The driver gets 4g (two workers:
#: 8 of the machine's 24 GB). Delta also keeps a DeltaLog per table path for an hour after its last
#: use; dropping those unused for 5 minutes keeps earlier modules' logs out of the heap (a module
#: keeps using its own).
_SUITE_CONF = {
    "spark.databricks.delta.delta.log.cacheRetentionMinutes": "5",
    "spark.driver.memory": "4g",
}


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    """The one local Delta-enabled session of the test run (never restarted per test)."""
    session = local_spark("pt_spark_tests", register_tables=False, **_SUITE_CONF)  # no developer store
    yield session
    session.stop()


@pytest.fixture(scope="session")
def template_store(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store created once per test run by ``setup()``; modules get copies of its folder.

    The pytest-xdist workers share it: the first to get the lock sets it up while the other
    waits (two setups at once on two cores take as long as both one after the other), then both
    copy it.
    """
    base = tmp_path_factory.getbasetemp()
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    location, done = shared / "template_store", shared / "template_store.done"
    with open(shared / "template_store.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not done.exists():
            shutil.rmtree(location, ignore_errors=True)  # a setup cut short by an earlier crash
            schema = f"pt_template_{uuid.uuid4().hex[:8]}"
            setup(spark, config=TrackerConfig(schema=schema, location=str(location)))
            done.touch()
    return location


@pytest.fixture(scope="module")
def config(
    spark: SparkSession, template_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> TrackerConfig:
    """A fresh tracking store for this test module, in its own schema and folder.

    It is a copy of the session's template store (a Delta table folder is self-contained), which
    pt_spark registers by name on first use, the same path a new session takes.
    """
    location = tmp_path_factory.mktemp("store") / "store"
    shutil.copytree(template_store, location)
    cfg = TrackerConfig(schema=f"pt_{uuid.uuid4().hex[:10]}", location=str(location))
    store_for(spark, cfg).ensure_ready()
    return cfg


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Return a maker of names no other test uses: ``unique("proc")`` -> ``proc-1a2b3c4d``."""
    return lambda prefix: f"{prefix}-{uuid.uuid4().hex[:8]}"


@pytest.fixture(autouse=True)
def _isolated_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Keep PT_SPARK_* variables and the user's ~/.process_tracker out of every test."""
    for key in list(os.environ):
        if key.startswith("PT_SPARK_"):
            monkeypatch.delenv(key)
    monkeypatch.setattr("pt_spark.config.DEFAULT_CONFIG_DIR", tmp_path / "no_user_config")
