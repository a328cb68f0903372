"""Imported first by ``nn``: the ``autograd`` it builds on must be chainrule's.

When HIPS autograd is installed over chainrule, ``import autograd`` loads HIPS's
``__init__``; without this check ``import nn`` would fail deep inside with a bare
``ImportError: cannot import name 'Value'``.
"""

from __future__ import annotations

import autograd
from autograd._install_check import refuse_foreign_autograd

refuse_foreign_autograd(autograd)
