"""Logs written by older firmware still read: a stored image of firmware 0.2 (stride records without a start)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from soleware.gait import Gait, Side, StrikeType
from soleware.shoe.runlog import FileFlash, RunEnd, RunLog, RunStart, Stride, StrideV1, record_to_dict

DATA = Path(__file__).parent / "data"


@pytest.fixture
def old_log(tmp_path: Path) -> RunLog:
    """``runlog_v1.img``: the bundled sample walk replayed by firmware 0.2.0 (commit 7593dd1) into a 32 KiB log."""
    image = tmp_path / "shoe.img"
    shutil.copy(DATA / "runlog_v1.img", image)
    flash = FileFlash(image, page_size=1024)
    log = RunLog.open(flash)
    yield log
    flash.close()


def test_every_record_of_the_old_image_reads_as_the_old_firmware_wrote_it(old_log: RunLog) -> None:
    expected = json.loads((DATA / "runlog_v1.json").read_text())
    records = list(old_log.records())
    assert old_log.check() == []
    assert len(records) == len(expected) == 62
    for rec, old in zip(records, expected, strict=True):
        now = record_to_dict(rec)
        if old["type"] == "stride":
            assert isinstance(rec, StrideV1) and now["type"] == "stride_v1" and rec.t_start_ms is None
            old["strike_type"] = old.pop("strike")
            # no stride of the old firmware was estimated (its flags' bit 5 is never set)
            old.update({"type": "stride_v1", "t_start_ms": None, "estimated": False})
        assert now == old


def test_the_old_strides_carry_the_vocabulary(old_log: RunLog) -> None:
    strides = [r for r in old_log.records() if isinstance(r, Stride)]
    assert len(strides) == 60
    assert {s.side for s in strides} == {Side.LEFT}
    assert {s.gait for s in strides} <= set(Gait) and any(s.gait is Gait.RUN for s in strides)
    assert {s.strike_type for s in strides} <= {*StrikeType, None}
    runs = old_log.runs()
    assert len(runs) == 1 and runs[0].complete and runs[0].stride_count == 60


def test_new_runs_append_after_the_old_ones_with_their_start(old_log: RunLog) -> None:
    from soleware.gait import Stride as GaitStride

    old_next = old_log.next_seq
    old_log.start_run(start_unix_ms=1_767_100_000_000, side="right", firmware="0.3.0")
    s = GaitStride(
        t_start_s=10.0, t_end_s=10.7, length_m=2.1, speed_mps=3.0, cadence_spm=171.4, contact_time_s=0.22,
        flight_time_s=0.13, strike_angle_deg=2.0, strike_type=StrikeType.MIDFOOT, impact_mps2=120.0, gait=Gait.RUN,
    )  # fmt: skip
    assert old_log.append_stride(s, t0_s=9.0)
    old_log.end_run(distance_m=2.1, moving_s=0.7, elapsed_s=1.7)
    new = old_log.read_from(old_next, 10)
    assert [type(r) for r in new] == [RunStart, Stride, RunEnd]
    assert new[1].t_start_ms == 1000 and new[1].t_end_ms == 1700 and new[1].side is Side.RIGHT
