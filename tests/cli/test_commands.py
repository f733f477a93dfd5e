"""Every command and option ``soleware --help`` offers is run by some test, and the README's commands exist.

The tests are found by reading the test sources (not by running them): an argument vector is a list literal that
starts with a command (``["shoe", "replay", path, "--json"]``, for ``CliRunner.invoke``) or follows
``"soleware.cli"`` (``[sys.executable, "-m", "soleware.cli", "serve", "--port", port]``, for a subprocess); a call
of a module's helper that splices ``*args`` into such a list counts with its arguments. Click's own command tree
resolves the words, so an option counts for the command it was given to. An option read from the environment
counts when its variable is named in the same test function.
"""

from __future__ import annotations

import ast
import functools
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import typer.main

from soleware.cli import app, load_commands

TESTS = Path(__file__).resolve().parents[1]
README = TESTS.parent / "README.md"

Tokens = list[str | None]  # None: a value not written in the source (a path, a port)


@functools.cache
def _root() -> Any:
    """The click command tree of the typer app (typer's own click; a group is what has ``commands``)."""
    load_commands()  # every command module, not only those a command run so far has loaded
    return typer.main.get_command(app)


def _is_group(cmd: Any) -> bool:
    return hasattr(cmd, "commands")


def _runs(cmd: Any) -> bool:
    """A command that runs when named: a leaf, or a group that also runs without a subcommand."""
    return not _is_group(cmd) or bool(getattr(cmd, "invoke_without_command", False))


def _leaves(group: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, cmd in sorted(group.commands.items()):
        if cmd.hidden:
            continue
        if _runs(cmd):
            yield (*path, name), cmd
        if _is_group(cmd):
            yield from _leaves(cmd, (*path, name))


def _options(cmd: Any) -> list[Any]:
    """The options ``--help`` shows (``--help`` itself and hidden ones aside)."""
    return [p for p in cmd.params if p.param_type_name == "option" and not p.hidden and p.name != "help"]


def _resolve(tokens: Tokens) -> tuple[tuple[str, ...], Any, Tokens] | None:
    """The command ``tokens`` run and the tokens after its name, or None when they name no command."""
    cmd = _root()
    path: list[str] = []
    i = 0
    while _is_group(cmd) and i < len(tokens) and tokens[i] in cmd.commands:
        cmd = cmd.commands[tokens[i]]
        path.append(tokens[i])  # type: ignore[arg-type]
        i += 1
    if not path or not _runs(cmd):
        return None
    return tuple(path), cmd, tokens[i:]


def _given(cmd: Any, rest: Tokens) -> set[str]:
    """Names of the options of ``cmd`` that ``rest`` gives."""
    names = {}
    for p in _options(cmd):
        for o in (*p.opts, *p.secondary_opts):
            names[o] = p.name
    return {names[t.split("=", 1)[0]] for t in rest if t and t.split("=", 1)[0] in names}


@dataclass
class Scope:
    """One test function (or fixture, or helper): the command lines it writes and the strings it names."""

    where: str
    argvs: list[Tokens] = field(default_factory=list)
    strings: set[str] = field(default_factory=set)


def _token(node: ast.expr) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _argv(tokens: Tokens) -> Tokens | None:
    if "soleware.cli" in tokens:
        return tokens[tokens.index("soleware.cli") + 1 :]
    if tokens and tokens[0] in _root().commands:
        return tokens
    return None


def _tokens(node: ast.AST, names: dict[str, Tokens]) -> Tokens | None:
    """The words of a list or tuple literal, or a sum of them, with ``*NAME`` of a known list spliced in."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _tokens(node.left, names), _tokens(node.right, names)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.Name):
        return names.get(node.id)
    if not isinstance(node, ast.List | ast.Tuple):
        return None
    out: Tokens = []
    for e in node.elts:
        if isinstance(e, ast.Starred):
            out += names.get(e.value.id, [None]) if isinstance(e.value, ast.Name) else [None]
        else:
            out.append(_token(e))
    return out


def _lists(body: ast.AST, names: dict[str, Tokens]) -> dict[str, Tokens]:
    """``names`` and the lists ``body`` assigns to plain names (``cmd = [...]``, ``cmd += [...]``), in order."""
    names = dict(names)
    steps = [n for n in ast.walk(body) if isinstance(n, ast.Assign | ast.AugAssign)]
    for n in sorted(steps, key=lambda n: (n.lineno, n.col_offset)):
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            if (t := _tokens(n.value, names)) is not None:
                names[n.targets[0].id] = t
        elif isinstance(n, ast.AugAssign) and isinstance(n.op, ast.Add) and isinstance(n.target, ast.Name):
            t = _tokens(n.value, names)
            if t is not None and n.target.id in names:
                names[n.target.id] = names[n.target.id] + t
    return names


def _scopes(path: Path) -> Iterator[Scope]:
    tree = ast.parse(path.read_text(), str(path))
    module = _lists(ast.Module(body=[n for n in tree.body if isinstance(n, ast.Assign)], type_ignores=[]), {})
    # helpers like ``demo_command(*args)`` returning ``[..., "soleware.cli", "demo", *args]``
    splicers: dict[str, tuple[str, ast.List]] = {}
    for fn in tree.body:
        if isinstance(fn, ast.FunctionDef) and fn.args.vararg:
            star = fn.args.vararg.arg
            for node in ast.walk(fn):
                if isinstance(node, ast.List) and any(
                    isinstance(e, ast.Starred) and isinstance(e.value, ast.Name) and e.value.id == star
                    for e in node.elts
                ):
                    splicers[fn.name] = (star, node)
    for top in tree.body:
        for fn in top.body if isinstance(top, ast.ClassDef) else [top]:
            scope = Scope(f"{path.relative_to(TESTS.parent)}:{getattr(fn, 'name', fn.lineno)}")
            names = _lists(fn, module)
            candidates = [names[k] for k in names.keys() - module.keys()]
            for node in ast.walk(fn):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    scope.strings.add(node.value)
                if isinstance(node, ast.List | ast.Tuple):
                    candidates.append(_tokens(node, names))  # type: ignore[arg-type]
                elif (
                    isinstance(node, ast.Call)
                    and isinstance(node.func, ast.Name)
                    and node.func.id in splicers
                ):
                    star, template = splicers[node.func.id]
                    candidates.append(_tokens(template, {**names, star: [_token(a) for a in node.args]}))  # type: ignore[arg-type]
            for tokens in candidates:
                if tokens and (argv := _argv(tokens)) is not None:
                    scope.argvs.append(argv)
            yield scope


def _all_scopes() -> list[Scope]:
    return [s for p in sorted(TESTS.rglob("*.py")) if "vendor" not in p.parts for s in _scopes(p)]


def _exercised() -> dict[tuple[str, ...], dict[str, list[str]]]:
    """For each command: the options given to it, each with the tests that give it (``""``: the command)."""
    out: dict[tuple[str, ...], dict[str, list[str]]] = {}
    for scope in _all_scopes():
        for argv in scope.argvs:
            if (hit := _resolve(argv)) is None:
                continue
            path, cmd, rest = hit
            seen = out.setdefault(path, {})
            env = {p.name for p in _options(cmd) if any(v in scope.strings for v in _envvars(p))}
            for name in {"", *_given(cmd, rest), *env}:
                seen.setdefault(name, []).append(scope.where)  # type: ignore[arg-type]
    return out


def _envvars(p: Any) -> list[str]:
    if not p.envvar:
        return []
    return [p.envvar] if isinstance(p.envvar, str) else list(p.envvar)


def test_the_scanner_sees_a_known_invocation() -> None:
    """The scanner is not vacuous: it finds the runlog CLI tests, with their options, where they are."""
    seen = _exercised()
    assert any(w.endswith("test_dump_json_lines") for w in seen[("shoe", "log", "dump")]["as_json"])
    assert any(w.endswith("test_dump_json_lines") for w in seen[("shoe", "log", "dump")]["from_seq"])


def test_every_command_and_option_is_run_by_a_test() -> None:
    """A command or an option without a test that runs it fails here, naming it."""
    seen = _exercised()
    missing = []
    for path, cmd in _leaves(_root()):
        if path not in seen:
            missing.append(f"soleware {' '.join(path)}")
            continue
        for p in _options(cmd):
            if p.name not in seen[path]:
                missing.append(f"soleware {' '.join(path)} {'/'.join((*p.opts, *p.secondary_opts))}")
    assert missing == [], "no test runs:\n" + "\n".join(missing)


def _readme_commands() -> list[str]:
    lines = README.read_text().splitlines()
    return [line.split("#")[0].strip() for line in lines if line.startswith(".venv/bin/soleware ")]


@pytest.mark.parametrize("line", _readme_commands())
def test_the_readme_offers_only_what_exists(line: str) -> None:
    """Each ``.venv/bin/soleware …`` line of the README names a command and options that ``--help`` offers."""
    words = shlex.split(line.replace("[", "").replace("]", "").replace("…", "x"))[1:]
    hit = _resolve(words)
    assert hit is not None, f"{line}: no such command"
    path, cmd, rest = hit
    known = {o for p in cmd.params for o in (*p.opts, *p.secondary_opts)}
    unknown = [w for w in rest if w.startswith("--") and w not in known]
    assert unknown == [], f"{line}: soleware {' '.join(path)} has no {unknown}"
