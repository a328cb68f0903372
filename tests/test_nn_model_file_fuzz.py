"""Bounded fuzzing of the model-file reader: only ModelFileError, bounded memory and time, models unchanged.

The fuzzing itself is tests/fuzz_model_file.py, run in a subprocess under ``resource``
limits (address space and CPU time) so that a loader allocating what a file declares
fails this test instead of exhausting the machine. Seeded (hypothesis ``derandomize``):
every run tries the same cases.
"""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES_PER_STRATEGY = 60


def test_fuzzed_model_files_raise_only_model_file_errors():
    script = ROOT / "tests" / "fuzz_model_file.py"
    result = subprocess.run([sys.executable, str(script), str(EXAMPLES_PER_STRATEGY)],
                            capture_output=True, text=True, cwd=ROOT, timeout=300,
                            env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""
    counts = json.loads(result.stdout)
    kinds = ["bytes", "text", "truncated", "mutated", "deep", "huge"]
    assert all(counts[kind] == EXAMPLES_PER_STRATEGY for kind in kinds), counts
    assert counts["refused"] + counts.get("loaded", 0) == len(kinds) * EXAMPLES_PER_STRATEGY
    assert counts["refused"] > 0.9 * len(kinds) * EXAMPLES_PER_STRATEGY
