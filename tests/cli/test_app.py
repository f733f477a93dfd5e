"""The root command loads a command's module only when that command runs, and every command is mapped."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
import typer.main

from soleware.cli import app, load_commands
from soleware.cli._app import COMMAND_MODULES
from soleware.gait.recording import sample_recording_path

_TREE = """
import json, sys
import typer.main
from soleware.cli._app import app, load_commands

def tree(cmd):
    return {name: tree(sub) for name, sub in sorted(getattr(cmd, "commands", {}).items())}

load_commands(sys.argv[1])
print(json.dumps(tree(typer.main.get_group(app).commands[sys.argv[1]])))
"""


def _tree(cmd: Any) -> dict[str, Any]:
    return {name: _tree(sub) for name, sub in sorted(getattr(cmd, "commands", {}).items())}


def _full() -> dict[str, Any]:
    load_commands()
    return _tree(typer.main.get_group(app))


def test_every_registered_command_is_mapped_to_its_modules() -> None:
    assert set(_full()) == set(COMMAND_MODULES)


@pytest.mark.parametrize("name", sorted(COMMAND_MODULES))
def test_a_command_is_whole_with_only_its_own_modules_loaded(name: str) -> None:
    """In a fresh process, loading one command's modules gives it every subcommand it has with all loaded."""
    out = subprocess.run(
        [sys.executable, "-c", _TREE, name], capture_output=True, text=True, check=True, timeout=120
    ).stdout
    assert json.loads(out) == _full()[name]


def test_analyze_imports_neither_scipy_nor_the_service_nor_bluetooth() -> None:
    """Nor what only ``eval`` needs (a process pool, the evaluation), nor the streaming engine, nor numpy's masked
    arrays (np.median's first call)."""
    script = (
        "import sys\n"
        "from soleware.cli import app\n"
        f"app(['analyze', {str(sample_recording_path())!r}, '--json'], standalone_mode=False)\n"
        "heavy = ('scipy', 'fastapi', 'sqlalchemy', 'bumble', 'uvicorn', 'soleware.server', 'soleware.demo',\n"
        "         'concurrent.futures', 'numpy.ma.core', 'soleware.gait.evaluation', 'soleware.gait.streaming')\n"
        "print(sorted({m.split('.')[0] if not m.startswith('soleware') else m for m in sys.modules"
        " if m.startswith(heavy)}), file=sys.stderr)\n"
    )
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert '"distance_m"' in res.stdout
    assert res.stderr.strip() == "[]"


def test_help_lists_every_command_and_a_typo_gets_a_suggestion() -> None:
    from typer.testing import CliRunner

    res = CliRunner().invoke(app, ["--help"])
    assert res.exit_code == 0
    for name in COMMAND_MODULES:
        assert name in res.output
    res = CliRunner().invoke(app, ["anlyze"])
    assert res.exit_code != 0
    assert "analyze" in res.output


def test_a_group_registered_in_part_is_completed_when_run() -> None:
    """``gateway`` imports ``link``, which registers part of ``shoe``; ``shoe log`` must still be there after."""
    script = (
        "from typer.testing import CliRunner\n"
        "from soleware.cli import app\n"
        "CliRunner().invoke(app, ['gateway', '--help'])\n"
        "print(CliRunner().invoke(app, ['shoe', 'log', '--help']).output)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=120
    )
    assert "dump" in out.stdout and "check" in out.stdout, out.stdout + out.stderr
