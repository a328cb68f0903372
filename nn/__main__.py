"""``python -m nn``: the ``chainrule`` command (see :mod:`nn.cli`), e.g. ``python -m nn demo``."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
