"""Runner accounts: password hashing (argon2id), opaque bearer tokens stored only as their SHA-256, profiles."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import secrets
import uuid
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.exc import IntegrityError

from soleware.runs.achievements import Achievements
from soleware.runs.records import PersonalRecords
from soleware.runs.storage._base import NotFound, StoreBase, _aware
from soleware.runs.storage.db import (
    AccessToken,
    LiveSession,
    PeriodTotalRow,
    Runner,
    RunnerState,
    RunRow,
    Shoe,
    ShoeTotalRow,
)
from soleware.runs.storage.progress import rebuild_aggregates

__all__ = [
    "AccountError",
    "AccountExists",
    "AccountStore",
    "AuthError",
    "RunnerInfo",
    "check_email",
    "check_password",
    "hash_password",
    "hash_token",
    "new_token",
    "verify_password",
]

TOKEN_LIFETIME = dt.timedelta(days=30)
_hasher = PasswordHasher()
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LEN = 8
#: a hash for unknown e-mail addresses, so that sign-in takes as long whether or not the account exists
_DUMMY_HASH = _hasher.hash("not-a-password-of-anyone")


class AccountError(ValueError):
    """An account cannot be created or changed as asked (the message says why)."""


class AccountExists(AccountError):
    """An account with this e-mail address exists already."""


class AuthError(Exception):
    """Credentials or token not accepted."""


def check_email(email: str) -> str:
    email = email.strip().lower()
    if len(email) > 320 or not _EMAIL.match(email):
        raise AccountError("not a valid e-mail address")
    return email


def check_password(password: str) -> str:
    if len(password) < MIN_PASSWORD_LEN:
        raise AccountError(f"password must have at least {MIN_PASSWORD_LEN} characters")
    if len(password) > 1024:
        raise AccountError("password must have at most 1024 characters")
    return password


def hash_password(password: str) -> str:
    return _hasher.hash(check_password(password))


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; with ``password_hash=None`` does the same work and returns False."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclasses.dataclass(frozen=True, slots=True)
class RunnerInfo:
    id: str
    email: str
    display_name: str
    locale: str
    time_zone: str
    units: str
    weekly_goal_m: float | None
    race_goal_m: float | None
    race_goal_date: dt.date | None

    @classmethod
    def of(cls, r: Any) -> RunnerInfo:
        """From a ``Runner`` or a row of its columns."""
        return cls(
            r.id,
            r.email,
            r.display_name,
            r.locale,
            r.time_zone,
            r.units,
            r.weekly_goal_m,
            r.race_goal_m,
            r.race_goal_date,
        )


#: the runner of a token (by its SHA-256, ``sha``) and the token's expiry: every authenticated request runs it
_RUNNER_OF_TOKEN = (
    sa.select(
        Runner.id,
        Runner.email,
        Runner.display_name,
        Runner.locale,
        Runner.time_zone,
        Runner.units,
        Runner.weekly_goal_m,
        Runner.race_goal_m,
        Runner.race_goal_date,
        AccessToken.expires_at,
    )
    .join(AccessToken, AccessToken.runner_id == Runner.id)
    .where(AccessToken.token_sha256 == sa.bindparam("sha"))
)


class AccountStore(StoreBase):
    """Accounts and their access tokens."""

    def create_runner(
        self,
        email: str,
        password: str,
        *,
        display_name: str = "",
        locale: str = "en",
        time_zone: str = "UTC",
    ) -> RunnerInfo:
        email = check_email(email)
        if locale not in ("en", "zh"):
            raise AccountError(f"locale must be 'en' or 'zh', got {locale!r}")
        _check_zone(time_zone)
        row = Runner(
            id=str(uuid.uuid4()),
            email=email,
            display_name=display_name.strip()[:100] or email.split("@")[0],
            password_hash=hash_password(password),
            locale=locale,
            time_zone=time_zone,
        )
        try:
            with self._tx() as s:
                s.add(row)
                s.flush()
                s.add(
                    RunnerState(
                        runner_id=row.id,
                        records=PersonalRecords().compute([]).to_dict(),
                        achievements=Achievements().compute([]).to_dict(),
                    )
                )
        except IntegrityError:
            raise AccountExists("an account with this e-mail address already exists") from None
        return RunnerInfo.of(row)

    def sign_in(self, email: str, password: str) -> str:
        """A new access token for these credentials; AuthError otherwise (same message either way)."""
        with self._tx() as s:
            row = s.scalars(sa.select(Runner).where(Runner.email == email.strip().lower())).one_or_none()
            if not verify_password(row.password_hash if row else None, password) or row is None:
                raise AuthError("wrong e-mail or password")
            token = new_token()
            now = dt.datetime.now(dt.UTC)
            s.add(
                AccessToken(
                    token_sha256=hash_token(token),
                    runner_id=row.id,
                    created_at=now,
                    expires_at=now + TOKEN_LIFETIME,
                )
            )
            return token

    def runner_for_token(self, token: str) -> RunnerInfo:
        with self._read() as conn:
            row = conn.execute(_RUNNER_OF_TOKEN, {"sha": hash_token(token)}).one_or_none()
        if row is None or _aware(row.expires_at) < dt.datetime.now(dt.UTC):
            raise AuthError("invalid or expired token")
        return RunnerInfo.of(row)

    def sign_out(self, token: str) -> None:
        with self._tx() as s:
            s.execute(sa.delete(AccessToken).where(AccessToken.token_sha256 == hash_token(token)))

    def runner(self, runner_id: str) -> RunnerInfo:
        with self._tx(write=False) as s:
            row = s.get(Runner, runner_id)
            if row is None:
                raise NotFound(f"no runner {runner_id!r}")
            return RunnerInfo.of(row)

    def delete_runner(self, runner_id: str) -> None:
        """Delete an account with all its data (runs, shoes, tokens, derived state)."""
        with self._tx() as s:
            row = s.get(Runner, runner_id)
            if row is None:
                raise NotFound(f"no runner {runner_id!r}")
            for table in (AccessToken, Shoe, PeriodTotalRow, ShoeTotalRow, RunRow, RunnerState, LiveSession):
                s.execute(sa.delete(table).where(table.runner_id == runner_id))
            s.delete(row)

    def update_runner(self, runner_id: str, **changes: Any) -> RunnerInfo:
        """Change profile fields and goals: display_name, locale, time_zone, weekly_goal_m, race_goal_*."""
        allowed = {
            "display_name",
            "locale",
            "time_zone",
            "units",
            "weekly_goal_m",
            "race_goal_m",
            "race_goal_date",
        }
        unknown = set(changes) - allowed
        if unknown:
            raise AccountError(f"cannot change {sorted(unknown)}")
        if "locale" in changes and changes["locale"] not in ("en", "zh"):
            raise AccountError(f"locale must be 'en' or 'zh', got {changes['locale']!r}")
        if "units" in changes and changes["units"] not in ("metric", "imperial"):
            raise AccountError(f"units must be 'metric' or 'imperial', got {changes['units']!r}")
        if "time_zone" in changes:
            _check_zone(changes["time_zone"])
        for key in ("weekly_goal_m", "race_goal_m"):
            v = changes.get(key)
            if v is not None and not (0 < v < 1e7):
                raise AccountError(f"{key} must be a positive distance in metres, got {v}")
        with self._tx() as s:
            row = s.get(Runner, runner_id)
            if row is None:
                raise NotFound(f"no runner {runner_id!r}")
            zone_before = row.time_zone
            for k, v in changes.items():
                setattr(row, k, v)
            if row.time_zone != zone_before:  # the period totals are in the runner's calendar
                self._lock_state(s, runner_id)
                rebuild_aggregates(s, runner_id, row.time_zone)
            return RunnerInfo.of(row)


def _check_zone(zone: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise AccountError("unknown time zone (use an IANA name such as Asia/Shanghai)") from None
