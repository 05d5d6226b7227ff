"""A store with a missing piece, in the wrong place, or made by an older pt_spark: a clear pt_spark
error naming the store and what to do, and ``setup`` repairs what it can.

Each test damages its own copy of the template store.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from helpers import table, table_versions

from pt_spark import ProcessTracker, StoreAccessError, StoreNotReady, TrackerConfig, setup
from pt_spark.store import store_for
from pt_spark.store.schema import PLATFORM_COLUMNS, SCHEMA_VERSION, spec


@pytest.fixture
def own_store(spark, template_store, tmp_path) -> TrackerConfig:
    location = tmp_path / "store"
    shutil.copytree(template_store, location)
    config = TrackerConfig(schema=f"pt_fault_{uuid.uuid4().hex[:8]}", location=str(location))
    store_for(spark, config).ensure_ready()  # every table registered by name, as after setup
    return config


def _chattr(flag: str, path: Path) -> None:
    subprocess.run(["chattr", "-R", flag, str(path)], check=True, capture_output=True)


@pytest.fixture
def read_only() -> Iterator[Callable[[Path], None]]:
    """Make folders read-only with the immutable flag, which binds root too (tests often run as root).

    A plain ``chmod`` does not stop root, so this is the only way to show a store the process
    cannot write. The flag is cleared after the test, so that pytest can remove the folders.
    Where the flag cannot be set the test fails rather than skips: an untested case must show.
    """
    frozen: list[Path] = []

    def freeze(path: Path) -> None:
        try:
            _chattr("+i", path)
        except (OSError, subprocess.CalledProcessError) as error:
            pytest.fail(f"cannot make {path} read-only with chattr +i (needs ext4/xfs and root): {error}")
        frozen.append(path)

    yield freeze
    for path in frozen:
        _chattr("-i", path)


def _start(spark, config, name="faulty"):
    return ProcessTracker(spark=spark, process_name=name, process_type="Load", config=config)


def test_a_table_folder_removed_after_registration_is_store_not_ready_and_setup_repairs_it(spark, own_store):
    _start(spark, own_store).change_run_status("completed")
    shutil.rmtree(Path(own_store.location) / "process_tracking")
    with pytest.raises(StoreNotReady, match=r"missing or damaged.*setup"):
        _start(spark, own_store)
    setup(spark, config=own_store)
    run = _start(spark, own_store)
    assert run.status == "running"
    assert table(spark, own_store, "process_tracking").count() == 1  # re-created empty


def test_a_deleted_store_folder_is_store_not_ready_and_setup_makes_it_again(spark, own_store):
    _start(spark, own_store).change_run_status("completed")
    shutil.rmtree(own_store.location)
    with pytest.raises(StoreNotReady, match=str(own_store.location)):
        _start(spark, own_store)
    setup(spark, config=own_store)
    assert _start(spark, own_store).process_run_id == 1


def test_a_location_that_is_a_file_is_a_one_line_store_access_error(spark, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("a file where the store should be")
    config = TrackerConfig(schema=f"pt_file_{uuid.uuid4().hex[:8]}", location=str(blocker))
    with pytest.raises((StoreAccessError, StoreNotReady)) as raised:
        setup(spark, config=config)
    assert str(blocker) in str(raised.value) and "\n" not in str(raised.value)
    assert blocker.read_text() == "a file where the store should be"


def test_a_store_made_before_the_heartbeat_columns_asks_for_setup_then_upgrades_in_place(spark, own_store):
    _start(spark, own_store, "old").change_run_status("completed")
    name = own_store.table("process_tracking")
    added = ("last_heartbeat_date_time", *PLATFORM_COLUMNS)  # by store v4 and v5
    kept = [c for c in spec("process_tracking").column_names if c not in added]
    version = spark.sql(f"DESCRIBE HISTORY {name} LIMIT 1").first()["version"]
    spark.sql(  # the v3 table, as pt_spark 3 left it
        f"CREATE OR REPLACE TABLE {name} USING delta PARTITIONED BY (bucket, is_latest_run) "
        f"LOCATION '{own_store.location}/process_tracking' TBLPROPERTIES ('pt_spark.layout' = '3') "
        f"AS SELECT {', '.join(kept)} FROM {name} VERSION AS OF {version}"
    )
    spark.sql(
        f"UPDATE {own_store.table('system_lkup')} SET system_value = '3' WHERE system_key = 'schema_version'"
    )
    with pytest.raises(StoreNotReady, match="older pt_spark"):
        _start(spark, own_store, "old")

    setup(spark, config=own_store)
    assert set(added) <= set(table(spark, own_store, "process_tracking").columns)
    run = _start(spark, own_store, "old")
    assert run.process_run_id == 2  # the old run is still there
    version = table(spark, own_store, "system_lkup").where("system_key = 'schema_version'").first()
    assert version.system_value == SCHEMA_VERSION == "5"


def test_setup_in_a_read_only_folder_is_a_one_line_store_access_error_and_creates_nothing(
    spark, tmp_path, read_only
):
    folder = tmp_path / "locked"
    folder.mkdir()
    read_only(folder)
    config = TrackerConfig(schema=f"pt_ro_{uuid.uuid4().hex[:8]}", location=str(folder / "store"))
    with pytest.raises(StoreAccessError) as raised:
        setup(spark, config=config)
    assert str(folder) in str(raised.value) and "\n" not in str(raised.value)
    assert list(folder.iterdir()) == []


def test_a_store_made_read_only_refuses_a_start_with_store_access_error_and_changes_no_table(
    spark, own_store, read_only
):
    _start(spark, own_store).change_run_status("completed")
    before = table_versions(own_store)
    read_only(Path(own_store.location))
    with pytest.raises(StoreAccessError) as raised:
        _start(spark, own_store)
    assert str(own_store.location) in str(raised.value) and "\n" not in str(raised.value)
    assert table_versions(own_store) == before
    assert table(spark, own_store, "process_tracking").count() == 1  # it still reads
