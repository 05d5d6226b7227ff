"""The seam between a run and its extracts: what the extract code may know of the run.

``ProcessTracker.context`` hands the extract code a frozen ``RunContext`` instead of itself, so
the extract modules see the store, the run's ids and its lineage ids, and nothing else of the
tracker. The lineage ids need a read of the process's links, so they are read on first use
(and then kept by the tracker).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:
    from pt_spark.store.store import Store


@dataclass(frozen=True)
class Lineage:
    """What an extract of the run is linked to: the process's dataset types, sources and objects.

    Source objects take precedence over sources when the process names any (the finer grain).
    """

    dataset_type_ids: tuple[int, ...]
    source_ids: tuple[int, ...]
    source_object_ids: tuple[int, ...]


@dataclass(frozen=True)
class RunContext:
    """A run as the extract code sees it.

    Attributes:
        store: The tracking store the run is recorded in.
        process_id: The run's process.
        process_tracking_id: The run.
        lineage: Returns the run's ``Lineage`` (read on first use).
    """

    store: Store
    process_id: int
    process_tracking_id: int
    lineage: Callable[[], Lineage] = field(compare=False, repr=False)


__all__ = ["Lineage", "RunContext"]
