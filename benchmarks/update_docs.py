"""Rewrite every generated benchmark table of the docs (and the README) in one command.

Usage, from the repository root::

    pip install ".[bench]" && pip install torch==2.13.0   # the references
    python benchmarks/update_docs.py                      # 10-20 minutes on a 2-core machine

Runs ``bench_compile.py --update-docs`` (the compiled tape against PyTorch, micrograd
and the course's NumPy loop) and ``bench_nn.py --update-readme`` (``nn.fit`` against
micrograd, eager training and ``autograd.compile``) one after the other; each writes
its table between its own markers in ``docs/benchmarks.md`` (and the README, if it
has them) and prints its full report. Exits non-zero if either script failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
COMMANDS = (("bench_compile.py", "--update-docs"), ("bench_nn.py", "--update-readme"))


def main(argv: list[str] | None = None) -> int:
    # No options, but --help must describe the script, not run it: a run rewrites the docs.
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args(argv)
    failed = 0
    for script, flag in COMMANDS:
        print(f"$ python benchmarks/{script} {flag}", flush=True)
        failed += subprocess.run([sys.executable, str(HERE / script), flag], check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
