"""Runs in and out of files: export one run, import files from other apps into a runner's history."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from pathlib import Path

from soleware.formats import export_run
from soleware.formats.bulk import import_paths
from soleware.runs.storage import RunStore

__all__ = ["ImportOutcome", "export", "import_into"]


@dataclasses.dataclass(frozen=True, slots=True)
class ImportOutcome:
    """One file: ``status`` is imported, duplicate or rejected; ``run_id`` the stored (or already stored) run."""

    name: str
    status: str
    run_id: str | None = None
    #: why it was rejected, what it duplicates, or what of an imported file could not be read (cut short)
    reason: str = ""
    #: that problem's kind and its values (``FormatError``/``FormatNote`` ``code`` and ``params``)
    code: str = ""
    params: dict[str, str] = dataclasses.field(default_factory=dict)


def export(store: RunStore, runner_id: str, run_id: str, fmt: str) -> bytes:
    return export_run(store.get_run(runner_id, run_id), fmt)


def import_into(
    store: RunStore,
    runner_id: str,
    paths: Iterable[str | Path],
    *,
    time_zone: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> list[ImportOutcome]:
    """Import every activity file under ``paths`` (files, folders, zips); what the runner has is skipped."""
    report = import_paths(paths, existing=store.summaries(runner_id), progress=progress, time_zone=time_zone)
    outcomes: dict[str, ImportOutcome] = {}
    for r in report.results:
        if r.status == "rejected":
            outcomes[r.name] = ImportOutcome(
                r.name, "rejected", reason=r.reason, code=r.code, params=r.params
            )
        elif r.status == "duplicate":
            outcomes[r.name] = ImportOutcome(r.name, "duplicate", r.duplicate_of, r.reason)
    ok = [r for r in report.ok if r.run is not None]  # every "ok" result carries its run (bulk.import_paths)
    # a whole file for a stored run that was read cut short takes its place (in one transaction each)
    replacing = [r for r in ok if r.replaces is not None]
    ok = [r for r in ok if r.replaces is None]
    added_all = store.add_runs(runner_id, [x.run for x in ok if x.run is not None])
    ok += replacing
    added_all += [
        store.add_run(runner_id, r.run, replaces=r.replaces) for r in replacing if r.run is not None
    ]
    for r, added in zip(ok, added_all, strict=True):
        if added.created:
            outcomes[r.name] = ImportOutcome(
                r.name, "imported", added.run_id, r.reason, code=r.code, params=r.params
            )
        else:
            outcomes[r.name] = ImportOutcome(r.name, "duplicate", added.run_id)
    return [outcomes[r.name] for r in report.results]
