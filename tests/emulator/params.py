"""Reading Bot API request parameters the way Telegram does.

PTB sends ``application/x-www-form-urlencoded`` (or ``multipart/form-data`` when uploading) where every
non-string value is JSON-encoded (``chat_id=42``, ``is_anonymous=false``, ``reply_markup={...}``) and
string values are sent raw (``text=hello``). Other clients send ``application/json`` bodies, sometimes
with nested objects still JSON-encoded as strings. Telegram accepts all of these, so the emulator does too.

The catch: a raw string parameter may *look* like JSON (``text=123``, ``text=true``, ``text=[1]``).
Parameters that are strings in the Bot API are therefore never JSON-decoded (:data:`STRING_PARAMS`).
"""

from __future__ import annotations

import json
from typing import Any

from .errors import bad_request

STRING_PARAMS: frozenset[str] = frozenset(
    {
        "action",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "caption_parse_mode",
        "certificate",
        "custom_title",
        "description",
        "description_parse_mode",
        "document",
        "emoji",
        "explanation",
        "explanation_parse_mode",
        "file_id",
        "first_name",
        "game_short_name",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "parse_mode",
        "photo",
        "question",
        "question_parse_mode",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "type",
        "url",
        "username",
        "video",
        "video_note",
        "voice",
    }
)
"""Bot API parameters whose type is String (or String-or-InputFile): kept exactly as sent."""


def decode_value(name: str, value: Any) -> Any:
    """Decode one parameter value: JSON for non-string parameters, raw text for string ones."""
    if name in STRING_PARAMS:
        if isinstance(value, str):
            return value
        # A JSON body may carry a number where the API wants a string; Telegram coerces it.
        return json.dumps(value) if isinstance(value, bool | dict | list) or value is None else str(value)
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        # "@channelusername" chat ids and other bare strings are legitimate as they are.
        return value


def decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    """Decode every parameter of a request (see :func:`decode_value`)."""
    return {name: decode_value(name, value) for name, value in raw.items()}


def get_int(params: dict[str, Any], name: str, default: int | None = None, *, required: bool = False) -> int | None:
    """An Integer parameter; Telegram accepts numbers sent as strings, and rejects anything else."""
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise bad_request(f"{name} is empty" if name != "message_id" else "message identifier is not specified")
        return default
    if isinstance(value, bool):
        raise bad_request(f"wrong parameter {name} specified")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise bad_request(f"wrong parameter {name} specified")


def require_int(params: dict[str, Any], name: str) -> int:
    """A required Integer parameter."""
    value = get_int(params, name, required=True)
    assert value is not None  # get_int raised otherwise
    return value


def get_bool(params: dict[str, Any], name: str, default: bool = False) -> bool:
    """A Boolean parameter (``true``/``false``, ``1``/``0``, JSON booleans)."""
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1", "yes", "on")
    return bool(value)


def get_str(params: dict[str, Any], name: str) -> str | None:
    """A String parameter, or ``None`` if absent."""
    value = params.get(name)
    if value is None:
        return None
    return value if isinstance(value, str) else str(value)


def get_object(params: dict[str, Any], name: str, what: str) -> Any:
    """A JSON-serialized object parameter that must have decoded to a dict or list."""
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, str):
        raise bad_request(f"can't parse {what} JSON object")
    return value
