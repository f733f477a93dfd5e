"""The runner's shoes and their mileage."""

from __future__ import annotations

import dataclasses
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from soleware.runs.model import RunDataError
from soleware.runs.progress import ShoeMileage
from soleware.runs.storage._base import NotFound, StoreBase, _aware
from soleware.runs.storage.db import Shoe, ShoeTotalRow

__all__ = ["ShoeInfo", "ShoeStore"]


@dataclasses.dataclass(frozen=True, slots=True)
class ShoeInfo:
    serial: str
    name: str
    side: str
    retire_at_m: float
    retired: bool
    mileage: ShoeMileage


#: a runner's shoes (``runner_id``) in the order registered, each with its totals if it has run
_SHOES_WITH_TOTALS = (
    sa.select(
        Shoe.serial,
        Shoe.name,
        Shoe.side,
        Shoe.retire_at_m,
        Shoe.initial_m,
        Shoe.retired,
        Shoe.created_at,
        ShoeTotalRow.distance_um,
        ShoeTotalRow.runs,
        ShoeTotalRow.first_run,
        ShoeTotalRow.last_run,
    )
    .outerjoin(
        ShoeTotalRow, (ShoeTotalRow.runner_id == Shoe.runner_id) & (ShoeTotalRow.serial == Shoe.serial)
    )
    .where(Shoe.runner_id == sa.bindparam("runner_id"))
    .order_by(Shoe.id)
)


class ShoeStore(StoreBase):
    """Registered shoes: serial, name, side, retirement distance."""

    def register_shoe(
        self,
        runner_id: str,
        serial: str,
        *,
        name: str = "",
        side: str = "unknown",
        retire_at_m: float = 700_000.0,
        initial_m: float = 0.0,
    ) -> None:
        serial = serial.strip()
        if not serial or len(serial) > 64:
            raise RunDataError("a shoe serial is 1 to 64 characters")
        if side not in ("left", "right", "unknown"):
            raise RunDataError(f"side must be left, right or unknown, got {side!r}")
        if not (0 < retire_at_m < 1e8) or not (0 <= initial_m < 1e8):
            raise RunDataError("retire_at_m must be > 0 and initial_m >= 0 (metres)")
        try:
            with self._tx() as s:
                s.add(
                    Shoe(
                        runner_id=runner_id,
                        serial=serial,
                        name=name.strip()[:100],
                        side=side,
                        retire_at_m=retire_at_m,
                        initial_m=initial_m,
                    )
                )
        except IntegrityError:
            raise RunDataError("this shoe is already registered") from None

    def update_shoe(self, runner_id: str, serial: str, **changes: Any) -> None:
        allowed = {"name", "retire_at_m", "retired"}
        if set(changes) - allowed:
            raise RunDataError(f"cannot change {sorted(set(changes) - allowed)}")
        with self._tx() as s:
            row = self._shoe(s, runner_id, serial)
            for k, v in changes.items():
                setattr(row, k, v)

    def delete_shoe(self, runner_id: str, serial: str) -> None:
        with self._tx() as s:
            s.delete(self._shoe(s, runner_id, serial))

    @staticmethod
    def _shoe(s: Session, runner_id: str, serial: str) -> Shoe:
        row = s.scalars(
            sa.select(Shoe).where(Shoe.runner_id == runner_id, Shoe.serial == serial)
        ).one_or_none()
        if row is None:
            raise NotFound(f"no shoe {serial!r}")
        return row

    def shoes(self, runner_id: str) -> list[ShoeInfo]:
        """Registered shoes with their mileage (runs they came from plus distance before registration), from the
        per-shoe totals kept with the runs."""
        with self._read() as conn:
            rows = conn.execute(_SHOES_WITH_TOTALS, {"runner_id": runner_id}).all()
        out = []
        for r in rows:
            if r.runs is None:  # no run of this shoe yet
                now = _aware(r.created_at)
                m = ShoeMileage(r.serial, r.initial_m, 0, now, now, r.retire_at_m)
            else:
                m = ShoeMileage(
                    r.serial,
                    r.initial_m + r.distance_um / 1e6,
                    r.runs,
                    _aware(r.first_run),
                    _aware(r.last_run),
                    r.retire_at_m,
                )
            out.append(ShoeInfo(r.serial, r.name, r.side, r.retire_at_m, r.retired, m))
        return out
