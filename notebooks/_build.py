"""Re-execute the course notebooks in place so their committed outputs match the code.

Usage (from the repository root, in the environment chainrule is installed in)::

    python notebooks/_build.py                 # every notebook
    python notebooks/_build.py 03 07           # the ones whose names start so

Each notebook runs top to bottom on a fresh ``python3`` kernel, in this folder, exactly
as ``pytest --nbmake`` runs it; its outputs are replaced and its run time printed.
Timing and execution-count noise is not recorded, so re-running an unchanged notebook
gives (close to) the same file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
TIMEOUT_PER_CELL = 120  # seconds; a notebook must finish in under a minute anyway


def notebook_paths(prefixes: list[str]) -> list[Path]:
    """The notebooks in this folder whose names start with one of ``prefixes`` (all if empty).

    Example:
        >>> notebook_paths(["01"])[0].name
        '01_chain_rule.ipynb'
    """
    paths = sorted(HERE.glob("[0-9][0-9]_*.ipynb"))
    if prefixes:
        paths = [p for p in paths if any(p.name.startswith(prefix) for prefix in prefixes)]
    return paths


def execute(path: Path) -> float:
    """Run ``path`` on a fresh kernel, write it back with its new outputs; return seconds."""
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.read(path, as_version=4)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    client = NotebookClient(notebook, kernel_name="python3", timeout=TIMEOUT_PER_CELL,
                            record_timing=False,
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    seconds = time.perf_counter() - start
    notebook.metadata.pop("widgets", None)  # see _without_machine_noise
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs = _joined_streams([output for output in map(_without_machine_noise, cell.outputs)
                                            if output])
    nbformat.write(notebook, path)
    return seconds


def _without_machine_noise(output: dict) -> dict | None:
    """The output minus what a reader without a kernel cannot use, or ``None``.

    A widget (``nn.fit``'s tqdm bar) is saved as a placeholder whose text is its *first*
    state ("0%"); the bar is gone once training ends. Everything else is kept, stderr
    included: a warning there is a bug to cure, and the notebook must show it.

    Example:
        >>> _without_machine_noise({"output_type": "display_data", "metadata": {}, "data": {
        ...     "application/vnd.jupyter.widget-view+json": {}, "text/plain": "fit: 0%"}}) is None
        True
        >>> _without_machine_noise({"output_type": "stream", "name": "stderr", "text": "warning"})
        {'output_type': 'stream', 'name': 'stderr', 'text': 'warning'}
    """
    if "application/vnd.jupyter.widget-view+json" in output.get("data", {}):
        return None
    return output


def _joined_streams(outputs: list) -> list:
    """Consecutive pieces of one stream joined, as a viewer shows them.

    On a loaded machine the kernel may flush one ``print`` in two messages, which the
    file would keep as two outputs ("0.0" then " 2.0\\n"): a diff that means nothing.

    Example:
        >>> _joined_streams([{"output_type": "stream", "name": "stdout", "text": "0.0"},
        ...                  {"output_type": "stream", "name": "stdout", "text": " 2.0\\n"}])
        [{'output_type': 'stream', 'name': 'stdout', 'text': '0.0 2.0\\n'}]
    """
    joined: list = []
    for output in outputs:
        previous = joined[-1] if joined else None
        if (previous is not None and output.get("output_type") == previous.get("output_type") == "stream"
                and output.get("name") == previous.get("name")):
            previous["text"] = previous["text"] + output["text"]
        else:
            joined.append(output)
    return joined


def main(argv: list[str]) -> int:
    paths = notebook_paths(argv)
    if not paths:
        print(f"no notebook in {HERE} matches {argv}", file=sys.stderr)
        return 2
    total = 0.0
    for path in paths:
        seconds = execute(path)
        total += seconds
        print(f"{path.name:40s} {seconds:6.1f} s", flush=True)
    print(f"{'total':40s} {total:6.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
