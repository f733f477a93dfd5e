"""The root ``soleware`` Typer application; command modules register on it, loaded when their command runs.

``soleware analyze`` should not pay for importing the run service, the Bluetooth stack and the demo: the root
group imports a command's module only when that command is looked up (``--help`` and typos load them all).
"""

from __future__ import annotations

import importlib
from typing import Any

import typer
import typer.main
from typer.core import TyperGroup

__all__ = ["COMMAND_MODULES", "app", "load_commands"]

#: the ``soleware.cli`` modules that register each top-level command (a group's subcommands may come from several)
COMMAND_MODULES: dict[str, tuple[str, ...]] = {
    "analyze": ("gait",),
    "eval": ("gait",),
    "demo": ("demo",),
    "export": ("files",),
    "import": ("files",),
    "radio": ("link",),
    "gateway": ("link",),
    "shoe": ("shoe", "link", "shoe_log", "shoe_replay"),
    "serve": ("service",),
    "db": ("service",),
    "user": ("service",),
}


def load_commands(*names: str) -> None:
    """Import the modules that register the top-level commands ``names`` (all commands without names)."""
    for name in names or tuple(COMMAND_MODULES):
        for module in COMMAND_MODULES[name]:
            importlib.import_module(f"soleware.cli.{module}")


class _LazyGroup(TyperGroup):
    """The root group: a command's click object is built after its modules have registered it.

    A group of subcommands can be registered in part (``shoe`` by ``link`` before ``shoe_log`` is imported), so a
    command is built afresh whenever it is looked up, after all of its modules are imported.
    """

    def _load(self, *names: str) -> None:
        load_commands(*names)
        self.commands = dict(typer.main.get_group(app).commands)

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in COMMAND_MODULES:
            self._load(cmd_name)
        elif cmd_name not in self.commands:
            self._load()  # every command, so that a typo gets its suggestion
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: Any) -> list[str]:
        self._load()
        return super().list_commands(ctx)


app = typer.Typer(
    name="soleware",
    help="Soleware: smart running shoes, from the sole's IMU to your history of runs.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=_LazyGroup,
)


@app.callback()
def _root() -> None:
    """Soleware: smart running shoes, from the sole's IMU to your history of runs."""
