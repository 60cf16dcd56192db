"""Secrets kept out of output and logs: the bot token masked, a database URL's password replaced by ***.

Standard library only, so settings, logging and storage can all use it without importing one another.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, unquote, urlsplit, urlunsplit

__all__ = ["mask", "redact_url", "url_secrets"]


def mask(secret: str | None) -> str:
    """A secret as logs may show it: never the secret part."""
    if not secret:
        return "<unset>"
    bot_id, _, _ = secret.partition(":")
    return f"{bot_id}:***" if bot_id.isdigit() else "***"


def url_secrets(url: str) -> list[str]:
    """The passwords a database URL carries (in its user part or a `password=` parameter), as written and decoded."""
    parts = urlsplit(url)
    found: list[str] = []
    userinfo, at, _ = parts.netloc.rpartition("@")
    if at and ":" in userinfo:
        found.append(userinfo.split(":", 1)[1])
    found += [value for key, value in parse_qsl(parts.query, keep_blank_values=True) if key == "password"]
    found += [unquote(secret) for secret in found]
    return sorted({s for s in found if s}, key=len, reverse=True)


def redact_url(url: str) -> str:
    """`url` with any password replaced by ***, fit for messages and logs; a URL with none comes back as it was
    (urlunsplit would turn `sqlite:////abs/x.db` into `sqlite://abs/x.db`, naming the wrong file)."""
    parts = urlsplit(url)
    netloc = parts.netloc
    userinfo, at, hosts = netloc.rpartition("@")
    if at and ":" in userinfo:
        netloc = f"{userinfo.split(':', 1)[0]}:***@{hosts}"
    query = "&".join(
        f"{key}=***" if key == "password" else item
        for item in parts.query.split("&")
        if item
        for key in [unquote(item.split("=", 1)[0])]
    )
    if netloc == parts.netloc and query == parts.query:
        return url
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
