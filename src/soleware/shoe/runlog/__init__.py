"""The shoe's flash run log: runs kept in NOR flash until the phone has acknowledged them.

Quick use (the firmware's view)::

    flash = FileFlash("shoe.img")            # or MemoryFlash(); FileFlash.create(path, 4 << 20) for a new image
    log = RunLog.open(flash)                 # mounts and recovers from a power cut
    run_id = log.start_run(start_unix_ms=..., side="left", firmware="0.3.1", calibration=1.0)
    log.append_stride(stride, t0_s=run_start_s)  # a soleware.gait Stride; times kept since the run's start
    log.end_run(distance_m=..., moving_s=..., elapsed_s=...)

    batch = log.read_from(seq, max_records=32)   # the phone's sync window
    log.ack(batch[-1].seq)                       # persisted; acknowledged pages may be reused

Binary layouts: records in `soleware.shoe.runlog._records`, pages in `soleware.shoe.runlog._log`.
"""

from soleware.shoe.runlog._flash import FileFlash, Flash, FlashError, MemoryFlash, PowerCut, parse_size
from soleware.shoe.runlog._log import HEADER_SIZE, LogStats, RunInfo, RunLog, RunLogError, detect_page_size
from soleware.shoe.runlog._records import (
    FRAME_OVERHEAD,
    MAX_FRAME_SIZE,
    Ack,
    LogRecord,
    Overflow,
    RecordError,
    RecordType,
    RunEnd,
    RunStart,
    Stride,
    StrideV1,
    record_to_dict,
)

__all__ = [
    "FRAME_OVERHEAD",
    "HEADER_SIZE",
    "MAX_FRAME_SIZE",
    "Ack",
    "FileFlash",
    "Flash",
    "FlashError",
    "LogRecord",
    "LogStats",
    "MemoryFlash",
    "Overflow",
    "PowerCut",
    "RecordError",
    "RecordType",
    "RunEnd",
    "RunInfo",
    "RunLog",
    "RunLogError",
    "RunStart",
    "Stride",
    "StrideV1",
    "detect_page_size",
    "parse_size",
    "record_to_dict",
]
