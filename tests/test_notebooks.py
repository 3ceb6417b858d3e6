"""The planners' notebooks (``notebooks/*.ipynb``) run top to bottom on the demo data and are committed clean.

Each notebook is executed with nbclient in a kernel of *this* interpreter: a ``python3`` kernelspec whose argv
is ``sys.executable`` is installed into a temporary folder and put first on ``JUPYTER_PATH``, so the kernel sees
the same environment (and the same zk_forecast) as the tests, also in a fresh venv with only the ``test`` extra.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import nbclient
import nbformat
import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = ["01_history", "02_demand_and_stock", "03_failure_rates", "04_manufacturer_feedback", "05_the_night"]
KERNEL = "python3"


@pytest.fixture(scope="module")
def kernel_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """A ``python3`` kernelspec for ``sys.executable``, first on ``JUPYTER_PATH``; skip if no kernel starts."""
    from ipykernel.kernelspec import install
    from jupyter_client.kernelspec import KernelSpecManager
    from jupyter_client.manager import start_new_kernel

    prefix = tmp_path_factory.mktemp("kernelspec")
    install(prefix=str(prefix), kernel_name=KERNEL)
    jupyter_path = str(prefix / "share" / "jupyter")
    old = os.environ.get("JUPYTER_PATH")
    os.environ["JUPYTER_PATH"] = jupyter_path + (os.pathsep + old if old else "")
    try:
        spec = KernelSpecManager().get_kernel_spec(KERNEL)
        assert Path(spec.resource_dir).is_relative_to(prefix), spec.resource_dir  # ours, not another python3
        assert Path(spec.argv[0]) == Path(sys.executable), spec.argv
        try:
            km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)
        except Exception as exc:  # the kernel process cannot start here (sandbox, no sockets, ...)
            pytest.skip(f"cannot start a Jupyter kernel for {sys.executable}: {exc!r}")
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        yield
    finally:
        if old is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = old


def _read(name: str):
    return nbformat.read(NOTEBOOK_DIR / f"{name}.ipynb", as_version=4)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_runs(name: str, kernel_env: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ZK_NOTEBOOK_DATA", raising=False)  # the demo goes to a temporary folder
    nb = _read(name)
    client = nbclient.NotebookClient(nb, timeout=300, kernel_name=KERNEL,
                                     resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    errors = [(i, out.get("ename"), out.get("evalue")) for i, cell in enumerate(nb.cells)
              if cell.cell_type == "code" for out in cell.outputs if out.output_type == "error"]
    assert not errors, errors
    executed = [c for c in nb.cells if c.cell_type == "code"]
    assert executed and all(c.execution_count is not None for c in executed)
    print(f"{name}: {seconds:.1f} s")


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_committed_without_outputs(name: str) -> None:
    nb = _read(name)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code, "a notebook with code"
    dirty = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and (c.outputs or c.execution_count is not None)]
    assert not dirty, f"{name}: cells {dirty} have outputs or execution counts; clear them before committing"
    # the first code cell sets up the demo data, so every notebook runs on its own (the demo command generates,
    # ingests and runs one night)
    assert ("zk.demo.generate" in code[0].source and "zk.ingest" in code[0].source) or \
        'main(["demo"' in code[0].source
