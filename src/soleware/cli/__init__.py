"""The ``soleware`` command line: thin wiring of the packages below it.

Each command's module is imported when that command runs (see ``soleware.cli._app``), so a command starts
without loading the packages only the others need.
"""

from __future__ import annotations

import os

# Before numpy loads OpenBLAS: the gait engine's products are 3 × n, and OpenBLAS's worker threads would only
# spin on the other cores after each one (~10% more CPU for ``soleware analyze``, the same results). A value the
# user set is kept.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from soleware.cli._app import app, load_commands

__all__ = ["app", "load_commands"]
