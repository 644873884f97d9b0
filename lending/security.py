"""Password hashing (argon2) and API tokens (random, stored as SHA-256 digests)."""

import hashlib
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

TOKEN_PREFIX = "lnd_"


def password_hasher(time_cost: int, memory_cost: int) -> PasswordHasher:
    """Return an argon2id hasher with the configured cost."""
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)


def verify_password(hasher: PasswordHasher, stored: str | None, password: str) -> bool:
    """Check a password against its stored hash without leaking why it failed."""
    if not stored:
        # Spend the same work as a real check so unknown e-mails are not told apart by timing.
        hasher.hash(password)
        return False
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    """Return a fresh bearer token (256 bits of randomness)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Digest under which a token is stored; a high-entropy token needs no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()
