"""Runner accounts: password hashing (argon2id) and opaque bearer tokens stored only as their SHA-256."""

from __future__ import annotations

import hashlib
import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "AccountError",
    "AccountExists",
    "AuthError",
    "check_email",
    "check_password",
    "hash_password",
    "hash_token",
    "new_token",
    "verify_password",
]

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
