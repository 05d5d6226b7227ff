"""Fixtures of the Spark Connect lane: one remote session, one tracking store per test module.

``make test-connect`` (tests/connect/lane.sh) starts a local Spark Connect server with Delta and
points ``PT_CONNECT_URL`` at it. Every fixture here talks to that server only: the ``spark``
fixture overrides the classic one of tests/conftest.py, so no local classic JVM is started by
this lane (``_no_classic_jvm`` checks that at the end).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pyspark.sql import SparkSession

from pt_spark import TrackerConfig, setup

URL_ENV = "PT_CONNECT_URL"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``connect`` marker (this folder is collected only in the Connect lane)."""
    config.addinivalue_line("markers", "connect: runs over Spark Connect (make test-connect)")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder ``connect``."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.connect)


@pytest.fixture(scope="session")
def connect_url() -> str:
    """The ``sc://host:port`` of the lane's server (``make test-connect`` sets it)."""
    url = os.environ.get(URL_ENV)
    if not url:
        pytest.fail(f"{URL_ENV} is not set: run the Spark Connect lane with `make test-connect`")
    return url


@pytest.fixture(scope="session")
def spark(connect_url: str) -> Iterator[SparkSession]:
    """The one Spark Connect session of the lane (a remote session: no JVM in this process)."""
    session = SparkSession.builder.remote(connect_url).getOrCreate()
    assert type(session).__module__.startswith("pyspark.sql.connect"), type(session)
    yield session
    session.stop()


@pytest.fixture(scope="session", autouse=True)
def _no_classic_jvm() -> Iterator[None]:
    """Fail the lane if anything started a local classic SparkContext (a py4j JVM) in this process."""
    yield
    from pyspark import SparkContext

    assert SparkContext._active_spark_context is None, "the Connect lane started a local classic JVM"


@pytest.fixture(scope="session")
def template_store(spark: SparkSession, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store created once per lane by ``setup()`` over Connect; each module gets a copy.

    The server runs on this machine, so a store folder is a local path that both sides see, and
    a copy of a Delta table folder is a complete table.
    """
    location = tmp_path_factory.mktemp("connect_template") / "store"
    setup(spark, config=TrackerConfig(schema=f"pt_connect_t{uuid.uuid4().hex[:8]}", location=str(location)))
    return location


@pytest.fixture(scope="module")
def config(
    spark: SparkSession, template_store: Path, tmp_path_factory: pytest.TempPathFactory
) -> TrackerConfig:
    """A fresh tracking store for this test module (its own schema and folder), over Connect.

    pt_spark registers the copied tables by name on first use, as it does for a new session
    (each table when a call first needs it: registering all 46 up front took ~40 s over Connect
    on the shared 2-core machine).
    """
    location = tmp_path_factory.mktemp("connect_store") / "store"
    shutil.copytree(template_store, location)
    cfg = TrackerConfig(schema=f"pt_connect_{uuid.uuid4().hex[:10]}", location=str(location))
    return cfg
