"""Read-only views of tracked rows, so helpers read like the seed: ``run.actor.actor_name``."""

from __future__ import annotations

from typing import Any, Mapping


class Entity:
    """A row of a tracking table exposed as attributes (``entity.<column>``)."""

    def __init__(self, table: str, values: Mapping[str, Any]) -> None:
        self._table = table
        self._values = dict(values)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_values"][name]
        except KeyError:
            raise AttributeError(f"{self.__dict__.get('_table')} has no column {name!r}") from None

    def as_dict(self) -> dict[str, Any]:
        """Return the row's columns and values."""
        return dict(self._values)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entity) and (self._table, self._values) == (other._table, other._values)

    def __hash__(self) -> int:
        return hash((self._table, tuple(sorted(self._values.items(), key=lambda kv: kv[0]))))

    def __repr__(self) -> str:
        shown = ", ".join(f"{key}={value!r}" for key, value in self._values.items())
        return f"{self._table}({shown})"


__all__ = ["Entity"]
