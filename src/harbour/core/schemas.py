"""Schema building blocks shared by every domain."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, field_validator


class Strict(BaseModel):
    """Unknown fields are refused; text is trimmed and may not carry NUL or other control characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_chars(cls, value):
        texts = value if isinstance(value, list) else [value]
        for text in texts:
            if isinstance(text, str) and any(ord(ch) < 32 and ch not in "\n\r\t" for ch in text):
                raise ValueError("contains control characters")
        return value


def blank_to_none(value):
    """HTML forms send "" for an empty field: treat it as not given."""
    return None if isinstance(value, str) and not value.strip() else value
