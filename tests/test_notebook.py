"""The quickstart notebook runs top to bottom in a fresh kernel, on a temporary tracking store.

The kernel is a separate Python process with its own Spark JVM. It inherits this process's
environment, so ``PT_SPARK_LOCATION`` / ``PT_SPARK_SCHEMA`` point it at a temporary store (a copy
of the session's template store, so the notebook's ``setup`` cell takes the path a user's second
session takes; creating a store is covered by ``test_store``), ``HOME``
keeps it away from a developer's ``~/.process_tracker`` file, and its working directory is a
temporary folder, so the notebook leaves nothing in the repository.
"""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "quickstart.ipynb"
#: Generous per-cell limit: only there so that a hung kernel cannot hang the suite.
CELL_TIMEOUT_SECONDS = 1800


@pytest.mark.slow
def test_quickstart_notebook_runs_every_cell_on_a_temporary_store(tmp_path, monkeypatch, template_store):
    store, workdir, home = tmp_path / "store", tmp_path / "work", tmp_path / "home"
    shutil.copytree(template_store, store)
    workdir.mkdir()
    home.mkdir()
    monkeypatch.setenv("PT_SPARK_LOCATION", str(store))
    monkeypatch.setenv("PT_SPARK_SCHEMA", f"nb_{uuid.uuid4().hex[:10]}")
    monkeypatch.setenv("HOME", str(home))
    notebook = nbformat.read(NOTEBOOK, as_version=4)

    NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT_SECONDS,
        resources={"metadata": {"path": str(workdir)}},
    ).execute()

    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    errors = [out for cell in code_cells for out in cell.outputs if out.output_type == "error"]
    assert errors == []
    assert all(cell.execution_count for cell in code_cells)
    assert (store / "process_tracking" / "_delta_log").is_dir()  # the notebook used the temporary store
    assert list((workdir / "demo_data").glob("quickstart-run-*/teams_2024.csv"))
