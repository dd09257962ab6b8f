"""Signed tokens for callback data and deep links, so members cannot forge or replay them.

Tokens use only `A-Za-z0-9_`, so the same token serves as callback data and as a deep-link
payload. The secret is generated on first run and kept in the database, never in the config.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

SIGNATURE_HEX_CHARS = 16
MAX_TOKEN_LENGTH = 64
_PART = re.compile(r"^[A-Za-z0-9]+$")


def new_secret() -> str:
    return secrets.token_hex(32)


def encode_int(value: int) -> str:
    """Chat ids are negative; deep links allow no '-', so negatives are written `n123`."""
    return f"n{-value}" if value < 0 else str(value)


def decode_int(text: str) -> int:
    return -int(text[1:]) if text.startswith("n") else int(text)


class Signer:
    """Appends a short HMAC to a token and checks it on the way back."""

    def __init__(self, secret: str) -> None:
        self._key = bytes.fromhex(secret)

    def _mac(self, payload: str) -> str:
        digest = hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()
        return digest[:SIGNATURE_HEX_CHARS]

    def sign(self, kind: str, *numbers: int) -> str:
        parts = [kind, *(encode_int(number) for number in numbers)]
        if not all(_PART.match(part) for part in parts):
            raise ValueError(f"token parts must be letters and digits: {parts!r}")
        payload = "_".join(parts)
        token = f"{payload}_{self._mac(payload)}"
        if len(token) > MAX_TOKEN_LENGTH:
            raise ValueError(f"signed token too long for Telegram: {len(token)} characters")
        return token

    def verify(self, token: str, kind: str) -> list[int] | None:
        """The numbers of a genuine token of this kind, or None if forged or malformed."""
        payload, _, mac = token.rpartition("_")
        if not payload or not hmac.compare_digest(mac.encode(), self._mac(payload).encode()):
            return None
        found_kind, *numbers = payload.split("_")
        if found_kind != kind:
            return None
        try:
            return [decode_int(number) for number in numbers]
        except ValueError:
            return None
