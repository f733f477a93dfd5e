"""The ``soleware`` command line: thin wiring of the packages below it.

Each command's module is imported when that command runs (see ``soleware.cli._app``), so a command starts
without loading the packages only the others need.
"""

from __future__ import annotations

from soleware.cli._app import app, load_commands

__all__ = ["app", "load_commands"]
