"""pytest's collection at the repository root: an optional extra's examples run where it is installed.

``nn/torch_bridge.py``'s doctests and notebook 14 need PyTorch (the ``torch`` extra,
``pip install torch==2.13.0``; CI installs it); without it they are not collected, as
``tests/test_torch_bridge.py`` is skipped.
"""

import importlib.util

NEEDS_TORCH = ["nn/torch_bridge.py", "notebooks/14_pytorch_bridge.ipynb"]
collect_ignore = [] if importlib.util.find_spec("torch") else NEEDS_TORCH
