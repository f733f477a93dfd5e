"""The ``soleware`` command line: thin wiring of the packages below it."""

from __future__ import annotations

from soleware.cli import demo as _demo  # noqa: F401
from soleware.cli import files as _files  # noqa: F401
from soleware.cli import gait as _gait  # noqa: F401
from soleware.cli import link as _link  # noqa: F401  (registers commands)
from soleware.cli import service as _service  # noqa: F401
from soleware.cli import shoe as _shoe  # noqa: F401
from soleware.cli import shoe_log as _shoe_log  # noqa: F401
from soleware.cli import shoe_replay as _shoe_replay  # noqa: F401
from soleware.cli._app import app

__all__ = ["app"]
