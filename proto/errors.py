"""Errors raised by the codec layer."""

from __future__ import annotations


class SmartcityError(Exception):
    """Root of every error smartcity raises on purpose; its message is meant for the user."""


class DecodeError(SmartcityError):
    """Bytes that are not a valid message of the expected type."""

    def __init__(self, message_type: str, reason: str) -> None:
        self.message_type = message_type
        self.reason = reason
        super().__init__(f"cannot decode {message_type}: {reason}")


class EncodeError(SmartcityError):
    """A message that cannot be encoded (an unknown encoding, a wrong type)."""
