"""Validate OpenLineage events against the OpenLineage client's models (no network, no spec files).

``openlineage-python`` ships ``openlineage.client.generated``: attrs classes that the OpenLineage
project generates from the spec's JSON schemas, one per definition (``base.RunEvent``, ``Run``,
``Job``, the datasets, and a module per facet). ``validate_event`` rebuilds an event dict into
those classes, following each class's typed fields (``attr.resolve_types``, ``attr.fields``), so:

* a missing required field fails (the class's ``__init__`` raises), and so does an unknown one;
* a value of the wrong JSON type fails (checked here against the field's annotation);
* the models' validators run (``eventTime`` an ISO-8601 date-time with a time, ``runId`` a UUID...);
* each facet key must be one the spec defines for its place (``FACETS``), except pt_spark's own
  ``pt_spark_run``, which is validated with ``jsonschema`` against the schema the package ships;
* every ``schemaURL``/``_schemaURL`` must be the one its model class declares.

The rebuilt event is then serialised with the client's own ``Serde.to_dict`` and must equal the
event it was built from, so nothing was dropped or changed on the way.
"""

from __future__ import annotations

import json
import types
from enum import Enum
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Union, get_args, get_origin

import attr
from dateutil.parser import isoparse
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema import ValidationError as SchemaError
from openlineage.client.generated import (
    base,
    environment_variables_run,
    error_message_run,
    job_type_job,
    nominal_time_run,
    output_statistics_output_dataset,
    parent_run,
    source_code_location_job,
    tags_job,
    tags_run,
)
from openlineage.client.serde import Serde
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from pt_spark.lineage.events import RUN_FACET, RUN_FACET_SCHEMA

#: The facets an event may carry, by the base class of the place they sit in: those pt_spark
#: writes and those the client adds on its own (tags, environment variables, source location).
FACETS: dict[type, dict[str, type]] = {
    base.RunFacet: {
        "parent": parent_run.ParentRunFacet,
        "errorMessage": error_message_run.ErrorMessageRunFacet,
        "nominalTime": nominal_time_run.NominalTimeRunFacet,
        "tags": tags_run.TagsRunFacet,
        "environmentVariables": environment_variables_run.EnvironmentVariablesRunFacet,
    },
    base.JobFacet: {
        "jobType": job_type_job.JobTypeJobFacet,
        "tags": tags_job.TagsJobFacet,
        "sourceCodeLocation": source_code_location_job.SourceCodeLocationJobFacet,
    },
    base.DatasetFacet: {},
    base.InputDatasetFacet: {},
    base.OutputDatasetFacet: {
        "outputStatistics": output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet,
    },
}
_PLAIN = {str: (str,), int: (int,), float: (int, float), bool: (bool,)}


class InvalidEvent(AssertionError):
    """An event (or one of its parts, named by ``path``) that its model does not accept."""


def _fail(path: str, message: str) -> InvalidEvent:
    return InvalidEvent(f"{path or 'event'}: {message}")


def _build(kind: Any, value: Any, path: str) -> Any:
    """Return ``value`` (JSON) as the annotated ``kind``: an attrs class, a list, a facet map, a scalar."""
    origin, args = get_origin(kind), get_args(kind)
    if origin in (Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [arg for arg in args if arg is not type(None)]  # the models' unions are X | None
        return _build(inner, value, path)
    if origin is list:
        if not isinstance(value, list):
            raise _fail(path, f"expected a list, got {type(value).__name__}")
        return [_build(args[0], item, f"{path}[{index}]") for index, item in enumerate(value)]
    if origin is dict:
        if not isinstance(value, dict):
            raise _fail(path, f"expected an object, got {type(value).__name__}")
        return {key: _facet(args[1], key, item, f"{path}.{key}") for key, item in value.items()}
    if isinstance(kind, type) and attr.has(kind):
        return _instance(kind, value, path)
    if isinstance(kind, type) and issubclass(kind, Enum):
        try:
            return kind(value)
        except ValueError:
            raise _fail(path, f"{value!r} is not one of {[member.value for member in kind]}") from None
    if kind in _PLAIN:
        if isinstance(value, bool) != (kind is bool) or not isinstance(value, _PLAIN[kind]):
            raise _fail(path, f"expected {kind.__name__}, got {type(value).__name__}")
        return value
    raise _fail(path, f"the validator does not know the field type {kind!r}")


def _facet(place: type, key: str, value: Any, path: str) -> Any:
    """Return one facet as its model; pt_spark's own facet is checked against its schema, kept a dict."""
    if place is base.RunFacet and key == RUN_FACET:
        validate_run_facet(value, path)
        return value
    model = FACETS.get(place, {}).get(key)
    if model is None:
        raise _fail(path, f"unknown {place.__name__} key {key!r}")
    return _build(model, value, path)


def _instance(model: type, value: Any, path: str) -> Any:
    """Return ``value`` as ``model``: each known field built to its type, unknown ones left to fail."""
    if not isinstance(value, dict):
        raise _fail(path, f"expected an object for {model.__name__}, got {type(value).__name__}")
    attr.resolve_types(model)
    fields = {field.name: field for field in attr.fields(model)}
    arguments: dict[str, Any] = {}
    for key, item in value.items():
        field = fields.get(key)
        if field is None:  # checked here: an unknown key may be a field's init name ("producer")
            raise _fail(path, f"{model.__name__} has no field {key!r}")
        if field.init:
            arguments[field.alias] = _build(field.type, item, f"{path}.{key}")
    try:
        made = model(**arguments)
    except (TypeError, ValueError) as error:  # a missing or unknown field, or a failed validator
        raise _fail(path, f"{model.__name__}: {error}") from error
    for field in attr.fields(model):
        if not field.init:  # schemaURL and _schemaURL: the model sets them, the event must agree
            if value.get(field.name) != getattr(made, field.name):
                declared = getattr(made, field.name)
                raise _fail(path, f"{field.name} is {value.get(field.name)!r}, the model says {declared!r}")
    return made


def _declared_only(rebuilt: Any, original: Any) -> Any:
    """Return ``rebuilt`` less the empty lists and maps that the models add where ``original`` had none."""
    if isinstance(rebuilt, dict) and isinstance(original, dict):
        return {
            key: _declared_only(item, original[key]) if key in original else item
            for key, item in rebuilt.items()
            if key in original or item not in ({}, [])
        }
    if isinstance(rebuilt, list) and isinstance(original, list) and len(rebuilt) == len(original):
        return [_declared_only(item, before) for item, before in zip(rebuilt, original, strict=True)]
    return rebuilt


_FORMATS = FormatChecker()


@_FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    """A ``date-time`` as the models check theirs (``eventTime``...): ISO-8601, with a time."""
    if isinstance(value, str):
        isoparse(value)
        return "t" in value.lower()
    return True


@cache
def _run_facet_validator() -> Draft202012Validator:
    """Return the validator of pt_spark's facet schema, read from the installed package.

    The schema extends the spec's ``RunFacet`` by reference. That reference resolves here to
    a schema made from the client's ``base.RunFacet`` model: its fields, strings, all required.
    A ``date-time`` is checked as the models check theirs.
    """
    packaged = resources.files("pt_spark.lineage").joinpath("PtSparkRunFacet.json")
    schema = json.loads(packaged.read_text(encoding="utf-8"))
    spec, _, pointer = base.RunFacet._get_schema().partition("#")
    names = [field.name for field in attr.fields(base.RunFacet)]
    run_facet = {
        "type": "object",
        "properties": {name: {"type": "string"} for name in names},
        "required": names,
    }
    assert pointer == "/$defs/RunFacet"
    registry: Registry = Registry().with_resources(
        [
            (schema["$id"], DRAFT202012.create_resource(schema)),
            (spec, DRAFT202012.create_resource({"$defs": {"RunFacet": run_facet}})),
        ]
    )
    return Draft202012Validator(
        {"$ref": f"{schema['$id']}#/$defs/PtSparkRunFacet"}, registry=registry, format_checker=_FORMATS
    )


def validate_run_facet(facet: Any, path: str = RUN_FACET) -> None:
    """Raise ``InvalidEvent`` unless ``facet`` is a valid ``pt_spark_run`` facet with its own schema URL."""
    try:
        _run_facet_validator().validate(facet)
    except SchemaError as error:
        raise _fail(path, error.message) from error
    if facet["_schemaURL"] != RUN_FACET_SCHEMA:
        raise _fail(path, f"_schemaURL is {facet['_schemaURL']!r}, not {RUN_FACET_SCHEMA!r}")


def validate_event(event: dict[str, Any]) -> None:
    """Raise ``InvalidEvent`` unless ``event`` is a ``RunEvent`` the client's models accept whole."""
    rebuilt = _declared_only(Serde.to_dict(_build(base.RunEvent, event, "")), event)
    if rebuilt != event:  # e.g. a facet without its _producer, which the model fills in
        raise _fail("", f"it changed when rebuilt from the models: {rebuilt!r}")


def read_events(path: Path) -> list[dict[str, Any]]:
    """Return the events a file transport (``append: true``) wrote, one JSON object a line."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
