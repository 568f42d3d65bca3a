"""Partners' OCPI tokens at rest: encrypted (Fernet, `FIELD_ENCRYPTION_KEY`) so a database dump
does not hand out access to anyone's backend, and found by a SHA-256 hash so that an incoming
header can be looked up without decrypting every row."""

import hashlib
import hmac
import secrets
import string
from functools import cache

from cryptography.fernet import Fernet
from django.conf import settings

TOKEN_LENGTH = 43  # 43 × log2(62) ≈ 256 bits


@cache
def _fernet(key: str) -> Fernet:
    return Fernet(key.encode())


def encrypt(plain: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(plain.encode()).decode()


def decrypt(cipher: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(cipher.encode()).decode()


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


_ALPHANUMERIC = string.ascii_letters + string.digits


def new_token() -> str:
    """About 256 random bits, letters and digits only: inside OCPI's token alphabet, and safe to
    paste anywhere (a leading `-` would read as an option on a command line)."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(TOKEN_LENGTH))


def is_valid_token(token: str) -> bool:
    return 0 < len(token) <= 64 and all(c in _TOKEN_CHARS for c in token)


_TOKEN_CHARS = frozenset(string.printable[:94])  # U+0021..U+007E


def mask(token: str) -> str:
    """What an operator may see of a token: enough to tell two apart, never enough to use one."""
    return f"{token[:4]}…{token[-2:]}" if len(token) > 8 else "…"
