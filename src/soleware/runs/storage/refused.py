"""Uploads the run service refused, kept as sent so the runner can see why and send them again."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from soleware.runs.storage._base import NotFound, StoreBase, _aware
from soleware.runs.storage.db import RefusedUpload

__all__ = ["RefusedUploadInfo", "RefusedUploadStore"]


@dataclasses.dataclass(frozen=True)
class RefusedUploadInfo:
    """An upload the service refused (see :class:`soleware.runs.storage.db.RefusedUpload`): the run it was to
    replace, if any; ``run_id`` once stored."""

    id: str
    key: str
    body: dict[str, Any]
    reason: str
    refused_at: dt.datetime
    run_id: str | None
    stored_at: dt.datetime | None
    replaces: str | None = None

    @classmethod
    def of(cls, r: RefusedUpload) -> RefusedUploadInfo:
        return cls(
            r.id,
            r.key,
            dict(r.body),
            r.reason,
            _aware(r.refused_at),
            r.run_id,
            None if r.stored_at is None else _aware(r.stored_at),
            r.replaces,
        )


class RefusedUploadStore(StoreBase):
    """Refused uploads, by the sender's key: kept, listed, marked refused again or stored, discarded."""

    def keep_refused(
        self, runner_id: str, *, key: str, body: dict[str, Any], reason: str, replaces: str | None = None
    ) -> tuple[RefusedUploadInfo, bool]:
        """Keep a refused upload under the sender's ``key``; an existing one with that key is returned as it is.
        ``replaces``: the run it was to take the place of.

        Returns the upload and whether it was new.
        """
        with self._tx() as s:
            row = s.scalars(
                sa.select(RefusedUpload).where(RefusedUpload.runner_id == runner_id, RefusedUpload.key == key)
            ).one_or_none()
            if row is not None:
                return RefusedUploadInfo.of(row), False
            row = RefusedUpload(
                id=str(uuid.uuid4()),
                runner_id=runner_id,
                key=key,
                body=body,
                reason=reason,
                replaces=replaces,
            )
            s.add(row)
            s.flush()
            return RefusedUploadInfo.of(row), True

    def refused_uploads(self, runner_id: str, *, include_stored: bool = False) -> list[RefusedUploadInfo]:
        """Refused uploads, newest first; those since stored only with ``include_stored``."""
        query = sa.select(RefusedUpload).where(RefusedUpload.runner_id == runner_id)
        if not include_stored:
            query = query.where(RefusedUpload.run_id.is_(None))
        with self._tx(write=False) as s:
            rows = s.scalars(query.order_by(RefusedUpload.refused_at.desc(), RefusedUpload.id)).all()
            return [RefusedUploadInfo.of(r) for r in rows]

    def refused_upload(self, runner_id: str, upload_id: str) -> RefusedUploadInfo:
        with self._tx(write=False) as s:
            return RefusedUploadInfo.of(self._refused(s, runner_id, upload_id))

    def refused_again(self, runner_id: str, upload_id: str, reason: str) -> None:
        """Sent again and refused again: the reason is now ``reason``."""
        with self._tx() as s:
            row = self._refused(s, runner_id, upload_id)
            row.reason = reason
            row.refused_at = dt.datetime.now(dt.UTC)

    def refused_stored(self, runner_id: str, upload_id: str, run_id: str) -> None:
        """Sent again and stored as run ``run_id``."""
        with self._tx() as s:
            row = self._refused(s, runner_id, upload_id)
            row.run_id = run_id
            row.stored_at = dt.datetime.now(dt.UTC)

    def discard_refused(self, runner_id: str, upload_id: str) -> None:
        with self._tx() as s:
            s.delete(self._refused(s, runner_id, upload_id))

    @staticmethod
    def _refused(s: Session, runner_id: str, upload_id: str) -> RefusedUpload:
        row = s.get(RefusedUpload, upload_id)
        if row is None or row.runner_id != runner_id:
            raise NotFound(f"no refused upload {upload_id!r}")
        return row
