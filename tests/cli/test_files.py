"""``soleware import`` and ``soleware export`` on a local database."""

from __future__ import annotations

import datetime as dt
import zipfile

import pytest
from typer.testing import CliRunner

from soleware.cli import app
from soleware.formats import export_run, import_file
from soleware.runs.model import Run, Stride


def _run(day: int, n: int = 300) -> Run:
    strides = [Stride("left", i * 0.8, (i + 1) * 0.8, 2.2) for i in range(n)]
    return Run.from_strides(strides, start_time=dt.datetime(2025, 5, day, 6, tzinfo=dt.UTC), time_zone="UTC")


def test_import_then_export(tmp_path, monkeypatch):
    monkeypatch.setenv("SOLEWARE_DATABASE_URL", f"sqlite:///{tmp_path / 'db.sqlite'}")
    cli = CliRunner()
    assert (
        cli.invoke(
            app, ["user", "create", "a@example.com"], env={"SOLEWARE_PASSWORD": "long enough"}
        ).exit_code
        == 0
    )
    for day in (1, 2, 3):
        (tmp_path / f"r{day}.fit").write_bytes(export_run(_run(day, 300 + day), "fit"))
    with zipfile.ZipFile(tmp_path / "export.zip", "w") as z:
        z.write(tmp_path / "r1.fit", "activities/r1.fit")
    (tmp_path / "bad.fit").write_bytes(b"\x0e\x10garbage")
    paths = [str(tmp_path / n) for n in ("r1.fit", "r2.fit", "r3.fit", "export.zip", "bad.fit")]
    r = cli.invoke(app, ["import", *paths, "--user", "a@example.com"])
    assert r.exit_code == 0, r.output
    assert "3 imported, 1 already there, 1 rejected" in r.output
    again = cli.invoke(app, ["import", str(tmp_path / "r2.fit"), "--user", "a@example.com"])
    assert "0 imported, 1 already there" in again.output
    whole = export_run(_run(4, 600), "fit")
    (tmp_path / "cut.fit").write_bytes(whole[: len(whole) // 2])  # the watch died while it wrote the file
    cut = cli.invoke(app, ["import", str(tmp_path / "cut.fit"), "--user", "a@example.com"])
    assert "imported in part cut.fit: file is cut short" in " ".join(cut.output.split())
    assert "1 imported" in cut.output

    from soleware.runs.storage import RunStore
    from soleware.runs.storage.db import make_engine

    store = RunStore(make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}"))
    first = store.summaries(_runner_id(store))[0]  # oldest first: the run of May 1st
    out = tmp_path / "back.fit"
    r = cli.invoke(app, ["export", first.run_id, "--user", "a@example.com", "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert import_file(out).distance_m == pytest.approx(_run(1, 301).distance_m, abs=0.01)
    r = cli.invoke(app, ["export", "no-such-run", "--user", "a@example.com"])
    assert r.exit_code == 1 and "no run" in r.output
    r = cli.invoke(app, ["import", str(tmp_path / "r1.fit"), "--user", "nobody@example.com"])
    assert r.exit_code == 2 and "no runner" in r.output


def _runner_id(store) -> str:
    import sqlalchemy as sa

    with store.engine.connect() as conn:
        return conn.execute(sa.text("SELECT id FROM runners")).scalar_one()


def test_export_formats_and_the_runners_time_zone(tmp_path, monkeypatch):
    """``export --format tcx|csv`` write what the readers read back, the same run; a run imported for a runner
    created with ``--time-zone`` is kept in that zone; an unknown format is refused."""
    from soleware.formats.stride_csv import read_strides_csv
    from soleware.runs.storage import RunStore
    from soleware.runs.storage.db import make_engine

    url = f"sqlite:///{tmp_path / 'db.sqlite'}"
    monkeypatch.setenv("SOLEWARE_DATABASE_URL", url)
    cli = CliRunner()
    r = cli.invoke(
        app,
        ["user", "create", "z@example.com", "--time-zone", "Asia/Shanghai"],
        env={"SOLEWARE_PASSWORD": "long enough"},
    )
    assert r.exit_code == 0, r.output
    (tmp_path / "r.fit").write_bytes(export_run(_run(4), "fit"))
    assert cli.invoke(app, ["import", str(tmp_path / "r.fit"), "--user", "z@example.com"]).exit_code == 0
    store = RunStore(make_engine(url))
    runner_id = _runner_id(store)
    (summary,) = store.summaries(runner_id)
    assert summary.time_zone == "Asia/Shanghai"
    run = _run(5, 250)  # a run with its strides, as the gateway uploads it (an imported FIT file has none)
    (added,) = store.add_runs(runner_id, [run])
    for fmt in ("tcx", "csv"):
        out = tmp_path / f"back.{fmt}"
        r = cli.invoke(
            app, ["export", added.run_id, "--user", "z@example.com", "--format", fmt, "--out", str(out)]
        )
        assert r.exit_code == 0, r.output
        if fmt == "tcx":
            assert import_file(out).distance_m == pytest.approx(run.distance_m, abs=0.01)
        else:
            back = read_strides_csv(out.read_bytes())
            assert [s.length_m for s in back] == pytest.approx([s.length_m for s in run.strides])
    r = cli.invoke(app, ["export", summary.run_id, "--user", "z@example.com", "--format", "gpx"])
    assert r.exit_code == 2 and "--format" in r.output
