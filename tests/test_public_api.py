"""The public surface of ``pt_spark``: ``__all__`` and the error hierarchy (docs/SPEC.md §2.4)."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

import pt_spark
from pt_spark import errors

#: Must always be exported; ``__all__`` may grow (ProcessTracker, ExtractTracker, admin, ...).
REQUIRED = {
    "ProcessTrackerError",
    "InvalidInput",
    "NotFound",
    "ProcessRunRefused",
    "ProcessOnHold",
    "ProcessDependencyError",
    "ProcessRunFailed",
    "ExtractDependencyError",
    "ConcurrentUpdateError",
    "ConfigError",
    "SessionError",
    "StoreNotReady",
    "ProtectedRowError",
    "TrackerConfig",
    "setup",
    "__version__",
}


def _error_classes() -> list[type[BaseException]]:
    return [
        value
        for _, value in inspect.getmembers(errors, inspect.isclass)
        if issubclass(value, BaseException) and value.__module__ == errors.__name__
    ]


def test_all_holds_the_required_names():
    assert REQUIRED - set(pt_spark.__all__) == set()


def test_all_has_no_duplicates():
    assert len(pt_spark.__all__) == len(set(pt_spark.__all__))


@pytest.mark.parametrize("name", sorted(pt_spark.__all__))
def test_every_exported_name_is_importable(name):
    module = importlib.import_module("pt_spark")
    assert getattr(module, name) is not None


def test_star_import_gives_exactly_all():
    namespace: dict[str, object] = {}
    exec("from pt_spark import *", namespace)  # the point of the test
    assert set(pt_spark.__all__) <= set(namespace)


def test_version_is_a_release_string_matching_the_installed_metadata():
    from importlib import metadata

    assert re.fullmatch(r"\d+\.\d+\.\d+([.-]?\w+)*", pt_spark.__version__)
    assert metadata.version("pt-spark") == pt_spark.__version__


def test_every_exported_error_is_the_one_in_errors():
    for cls in _error_classes():
        assert cls.__name__ in pt_spark.__all__, cls.__name__
        assert getattr(pt_spark, cls.__name__) is cls


@pytest.mark.parametrize("cls", _error_classes(), ids=lambda cls: cls.__name__)
def test_every_error_subclasses_process_tracker_error(cls):
    assert issubclass(cls, pt_spark.ProcessTrackerError)
    assert issubclass(cls, Exception)


def test_builtin_kinds_of_errors():
    assert issubclass(pt_spark.InvalidInput, ValueError)
    assert issubclass(pt_spark.NotFound, LookupError)
    assert issubclass(pt_spark.ConfigError, pt_spark.InvalidInput)
    assert issubclass(pt_spark.ConfigError, ValueError)


def test_errors_can_be_caught_by_their_root_and_builtin_kind():
    with pytest.raises(ValueError):
        raise pt_spark.InvalidInput("bad")
    with pytest.raises(LookupError):
        raise pt_spark.NotFound("missing")
    with pytest.raises(pt_spark.ProcessTrackerError):
        raise pt_spark.ConcurrentUpdateError("gave up")


def test_config_error_names_its_key():
    error = pt_spark.ConfigError("max_concurrent_failures", "must be >= 1")
    assert error.key == "max_concurrent_failures"
    assert "max_concurrent_failures" in str(error)


def test_process_run_refused_keeps_the_process_name():
    error = pt_spark.ProcessRunRefused("The process p is currently running.", process_name="p")
    assert error.process_name == "p"
    assert str(error) == "The process p is currently running."


def test_setup_signature_matches_the_spec():
    parameters = inspect.signature(pt_spark.setup).parameters
    assert list(parameters)[:3] == ["spark", "overwrite", "config"]
    assert parameters["overwrite"].default is False
    assert parameters["config"].default is None


def test_tracker_config_defaults_match_the_spec():
    cfg = pt_spark.TrackerConfig()
    assert (cfg.catalog, cfg.schema_name, cfg.location, cfg.max_concurrent_failures) == (
        None,
        "process_tracker",
        None,
        3,
    )
    assert pt_spark.TrackerConfig(schema="s").schema_name == "s"


def test_every_spec_citation_names_a_section_of_docs_spec():
    """``docs/SPEC.md §N`` in the code, tests and README points at a heading that exists."""
    root = Path(__file__).resolve().parent.parent
    headings = re.findall(r"^#{2,3} (\d+(?:\.\d+)?)[. ]", (root / "docs" / "SPEC.md").read_text(), re.M)
    files = [*root.glob("pt_spark/**/*.py"), *root.glob("tests/**/*.py"), root / "README.md"]
    cited = {
        (path.name, section)
        for path in files
        for section in re.findall(r"docs/SPEC\.md §(\d+(?:\.\d+)?)", path.read_text(encoding="utf-8"))
    }
    assert cited, "no citation found: the pattern is stale"
    assert not [(name, section) for name, section in cited if section not in headings]
