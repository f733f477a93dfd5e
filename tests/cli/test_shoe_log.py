"""``soleware shoe log`` with another erase page size, and ``new --force`` (the rest: tests/shoe/test_runlog_cli.py)."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from soleware.cli import app
from soleware.gait import Gait
from soleware.gait import Stride as GaitStride
from soleware.shoe.runlog import FileFlash, RunLog

runner = CliRunner()


def _log_a_run(image: Path, page_size: int, strides: int) -> None:
    with FileFlash(image, page_size=page_size) as flash:
        log = RunLog.open(flash)
        log.start_run(start_unix_ms=1_700_000_000_000, side="right")
        for i in range(1, strides + 1):
            s = GaitStride(
                t_start_s=0.7 * i - 0.7, t_end_s=0.7 * i, length_m=2.0, speed_mps=3.0, cadence_spm=170,
                contact_time_s=0.2, flight_time_s=0.1, strike_angle_deg=0.0, strike_type=None, impact_mps2=0.0,
                gait=Gait.RUN,
            )  # fmt: skip
            log.append_stride(s)
        log.end_run(distance_m=2.0 * strides, moving_s=0.7 * strides, elapsed_s=0.7 * strides)


def test_page_size_everywhere_and_force(tmp_path: Path) -> None:
    """An image of 1 KiB pages: ``new``, ``dump`` and ``check`` with ``--page-size 1024`` agree with the image;
    ``new --force`` erases it again."""
    image = tmp_path / "small-pages.img"
    res = runner.invoke(app, ["shoe", "log", "new", str(image), "--size", "32KiB", "--page-size", "1024"])
    assert res.exit_code == 0, res.output
    assert "32 pages of 1024 bytes" in res.output
    _log_a_run(image, 1024, strides=120)  # more than one page of records
    dump = runner.invoke(app, ["shoe", "log", "dump", str(image), "--json", "--page-size", "1024"])
    assert dump.exit_code == 0, dump.output
    kinds = [json.loads(line)["type"] for line in dump.stdout.splitlines()]
    assert kinds == ["run_start"] + ["stride"] * 120 + ["run_end"]
    check = runner.invoke(app, ["shoe", "log", "check", str(image), "--page-size", "1024"])
    assert check.exit_code == 0, check.output
    assert "122 records" in check.output and "32,768 bytes used" in check.output

    refused = runner.invoke(app, ["shoe", "log", "new", str(image), "--size", "32KiB"])
    assert refused.exit_code == 2 and image.read_bytes() != b"\xff" * 32768
    res = runner.invoke(app, ["shoe", "log", "new", str(image), "--size", "32KiB", "--force"])
    assert res.exit_code == 0, res.output
    assert image.read_bytes() == b"\xff" * 32768
