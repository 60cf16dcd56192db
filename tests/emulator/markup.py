"""Turns ``parse_mode`` text into plain text plus ``MessageEntity`` dicts, as Telegram does.

Telegram returns a sent message's text *without* markup and with entities (UTF-16 offsets), and rejects
malformed markup with ``400 Bad Request: can't parse entities: ...``. Emulating both matters for a bot:
an unescaped ``<`` in HTML or ``.`` in MarkdownV2 inside user-provided or translated text is a classic
production failure, and edit comparisons ("message is not modified") work on the parsed result.

Supported: ``HTML`` (all Bot API tags), ``MarkdownV2`` (the reserved-character rule, bold, italic,
underline, strikethrough, spoiler, code, pre, links, custom emoji, block quotes) and legacy ``Markdown``.
The error texts follow Telegram's wording closely but not necessarily to the byte.
"""

from __future__ import annotations

import html
import re
from typing import Any, ClassVar

from .errors import ApiError, bad_request
from .objects import JSON, utf16_len

_HTML_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}


def _entity_error(text: str) -> ApiError:
    return bad_request(f"can't parse entities: {text}")


def _sorted(entities: list[JSON]) -> list[JSON]:
    # Telegram orders entities by offset, the enclosing (longer) one first.
    return sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_HTML_TAGS = frozenset(_HTML_SIMPLE) | {"a", "span", "tg-emoji", "tg-time"}
_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class _TelegramHTML:
    """A scanner that follows tdlib's ``parse_html``: every ``<`` starts a tag, unknown tags are errors."""

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.plain: list[str] = []
        self.length = 0  # UTF-16 units emitted so far
        self.stack: list[tuple[str, JSON]] = []
        self.entities: list[JSON] = []

    def _byte(self, index: int) -> int:
        return len(self.src[:index].encode())

    def _emit(self, text: str) -> None:
        self.plain.append(text)
        self.length += utf16_len(text)

    def _char_reference(self) -> None:
        # tdlib decodes &lt; &gt; &amp; &quot; and numeric references; any other '&' stays literal.
        end = self.src.find(";", self.pos + 1, self.pos + 12)
        name = self.src[self.pos + 1 : end] if end != -1 else ""
        if name in _HTML_ENTITIES:
            self._emit(_HTML_ENTITIES[name])
        elif re.fullmatch(r"#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}", name):
            code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
            self._emit(chr(code) if 0 < code < 0x110000 else "\ufffd")
        else:
            self._emit("&")
            self.pos += 1
            return
        self.pos = end + 1

    def _attributes(self, begin: int) -> dict[str, str]:
        attributes: dict[str, str] = {}
        src = self.src
        while True:
            while self.pos < len(src) and src[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(src):
                raise _entity_error(f"Unclosed start tag at byte offset {self._byte(begin)}")
            if src[self.pos] == ">":
                self.pos += 1
                return attributes
            match = re.compile(r"[A-Za-z0-9_-]+").match(src, self.pos)
            if not match:
                raise _entity_error(f"Empty attribute name in the tag at byte offset {self._byte(begin)}")
            name = match.group().lower()
            self.pos = match.end()
            value = ""
            if src.startswith("=", self.pos):
                self.pos += 1
                if self.pos < len(src) and src[self.pos] in "'\"":
                    quote = src[self.pos]
                    close = src.find(quote, self.pos + 1)
                    if close == -1:
                        raise _entity_error(f"Unclosed start tag at byte offset {self._byte(begin)}")
                    value = html.unescape(src[self.pos + 1 : close])
                    self.pos = close + 1
                else:
                    value_match = re.compile(r"[^\s>]*").match(src, self.pos)
                    value = value_match.group() if value_match else ""
                    self.pos += len(value)
            attributes[name] = value

    def _start_tag(self, begin: int) -> None:
        match = re.compile(r"[^\s>]*").match(self.src, self.pos)
        name = match.group() if match else ""
        self.pos += len(name)
        if self.pos >= len(self.src):
            raise _entity_error(f"Unclosed start tag at byte offset {self._byte(begin)}")
        tag = name.lower()
        if tag not in _HTML_TAGS:
            raise _entity_error(f'Unsupported start tag "{tag}" at byte offset {self._byte(begin)}')
        attributes = self._attributes(begin)
        entity: JSON
        if tag == "span":
            if attributes.get("class") != "tg-spoiler":
                raise _entity_error(f'Tag "span" must have class "tg-spoiler" at byte offset {self._byte(begin)}')
            entity = {"type": "spoiler"}
        elif tag == "a":
            href = attributes.get("href", "")
            if href.startswith("tg://user?id=") and href[13:].isdigit():
                entity = {"type": "text_mention", "user": {"id": int(href[13:]), "is_bot": False, "first_name": ""}}
            else:
                # An <a> without a usable href is plain text in Telegram, not an error.
                entity = {"type": "text_link", "url": href} if href else {"type": "__plain"}
        elif tag == "tg-emoji":
            entity = {"type": "custom_emoji", "custom_emoji_id": attributes.get("emoji-id", "")}
        elif tag == "tg-time":
            entity = {"type": "date_time", "unix_time": int(attributes.get("unix", "0") or 0)}
            if attributes.get("format"):
                entity["date_time_format"] = attributes["format"]
        else:
            entity = {"type": _HTML_SIMPLE[tag]}
            if tag == "blockquote" and "expandable" in attributes:
                entity["type"] = "expandable_blockquote"
            if tag == "code" and self.stack and self.stack[-1][0] == "pre":
                language = attributes.get("class", "").removeprefix("language-")
                if language:
                    self.stack[-1][1]["language"] = language
        entity["offset"] = self.length
        self.stack.append((tag, entity))

    def _end_tag(self, begin: int) -> None:
        close = self.src.find(">", self.pos)
        if close == -1:
            raise _entity_error(f"Unclosed end tag at byte offset {self._byte(begin)}")
        tag = self.src[self.pos : close].strip().lower()
        self.pos = close + 1
        if not self.stack:
            raise _entity_error(f"Unexpected end tag at byte offset {self._byte(begin)}")
        open_tag, entity = self.stack.pop()
        if open_tag != tag:
            raise _entity_error(
                f'Unmatched end tag at byte offset {self._byte(begin)}, expected "</{open_tag}>", found "</{tag}>"'
            )
        length = self.length - entity["offset"]
        if length <= 0 or entity["type"] == "__plain":
            return
        if entity["type"] == "code" and self.stack and self.stack[-1][0] == "pre":
            return  # <pre><code class="language-x"> is a single pre entity in Telegram
        entity["length"] = length
        self.entities.append(entity)

    def parse(self) -> tuple[str, list[JSON]]:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char == "&":
                self._char_reference()
            elif char == "<":
                begin = self.pos
                self.pos += 1
                if src.startswith("/", self.pos):
                    self.pos += 1
                    self._end_tag(begin)
                else:
                    self._start_tag(begin)
            else:
                next_special = min(
                    (i for i in (src.find("&", self.pos), src.find("<", self.pos)) if i != -1), default=len(src)
                )
                self._emit(src[self.pos : next_special])
                self.pos = next_special
        if self.stack:
            raise _entity_error(f'Can\'t find end tag corresponding to start tag "{self.stack[-1][0]}"')
        return "".join(self.plain), _sorted(self.entities)


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Telegram ``HTML`` parse mode -> (plain text, entities)."""
    return _TelegramHTML(source).parse()


_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")


class _MarkdownV2:
    """A faithful-enough MarkdownV2 parser: escapes, nesting and Telegram's error messages."""

    _NAMES: ClassVar[dict[str, str]] = {
        "bold": "Bold",
        "italic": "Italic",
        "underline": "Underline",
        "strikethrough": "Strikethrough",
        "spoiler": "Spoiler",
        "text_link": "TextUrl",
        "custom_emoji": "CustomEmoji",
    }

    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.length = 0
        self.stack: list[tuple[JSON, int]] = []  # entity, byte offset of its start
        self.entities: list[JSON] = []

    def _emit(self, text: str) -> None:
        self.out.append(text)
        self.length += utf16_len(text)

    def _byte(self, index: int) -> int:
        return len(self.src[:index].encode())

    def _toggle(self, kind: str, width: int) -> None:
        if self.stack and self.stack[-1][0]["type"] == kind:
            entity, _ = self.stack.pop()
            entity["length"] = self.length - entity["offset"]
            if entity["length"] > 0:
                self.entities.append(entity)
        else:
            self.stack.append(({"type": kind, "offset": self.length}, self._byte(self.pos)))
        self.pos += width

    def _read_until(self, terminator: str, escapable: str) -> str:
        """Code, pre and link URLs: only ``escapable`` characters may (and must) be escaped."""
        start = self.pos
        chunk: list[str] = []
        while self.pos < len(self.src):
            char = self.src[self.pos]
            if char == "\\" and self.pos + 1 < len(self.src) and self.src[self.pos + 1] in escapable + "\\":
                chunk.append(self.src[self.pos + 1])
                self.pos += 2
                continue
            if self.src.startswith(terminator, self.pos):
                self.pos += len(terminator)
                return "".join(chunk)
            chunk.append(char)
            self.pos += 1
        raise _entity_error(f"Can't find end of the entity starting at byte offset {self._byte(start)}")

    def parse(self) -> tuple[str, list[JSON]]:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            at_line_start = self.pos == 0 or src[self.pos - 1] == "\n"
            if char == "\\":
                if self.pos + 1 < len(src) and 0 < ord(src[self.pos + 1]) <= 126:
                    self._emit(src[self.pos + 1])
                    self.pos += 2
                    continue
                raise _entity_error("Character '\\' is reserved and must be escaped with the preceding '\\'")
            if char == ">" and at_line_start:
                self._blockquote()
                continue
            if src.startswith("```", self.pos):
                start = self.pos
                self.pos += 3
                body = self._read_until("```", "`")
                language, sep, rest = body.partition("\n")
                entity: JSON = {"type": "pre", "offset": self.length}
                if sep and language and " " not in language:
                    entity["language"] = language
                    body = rest
                self._emit(body)
                entity["length"] = self.length - entity["offset"]
                if entity["length"] == 0:
                    raise _entity_error(f"Can't find end of Pre entity at byte offset {self._byte(start)}")
                self.entities.append(entity)
                continue
            if char == "`":
                self.pos += 1
                offset = self.length
                self._emit(self._read_until("`", "`"))
                if self.length > offset:
                    self.entities.append({"type": "code", "offset": offset, "length": self.length - offset})
                continue
            if char == "*":
                self._toggle("bold", 1)
                continue
            if char == "~":
                self._toggle("strikethrough", 1)
                continue
            if src.startswith("||", self.pos):
                self._toggle("spoiler", 2)
                continue
            if char == "_":
                top = self.stack[-1][0]["type"] if self.stack else None
                if top == "italic":
                    self._toggle("italic", 1)
                elif src.startswith("__", self.pos):
                    self._toggle("underline", 2)
                else:
                    self._toggle("italic", 1)
                continue
            if char == "[" or (char == "!" and src.startswith("![", self.pos)):
                kind = "custom_emoji" if char == "!" else "text_link"
                self.stack.append(({"type": kind, "offset": self.length}, self._byte(self.pos)))
                self.pos += 2 if char == "!" else 1
                continue
            if char == "]" and self.stack and self.stack[-1][0]["type"] in ("text_link", "custom_emoji"):
                entity, byte_start = self.stack.pop()
                self.pos += 1
                if not src.startswith("(", self.pos):
                    raise _entity_error(
                        f"Can't find end of {self._NAMES[entity['type']]} entity at byte offset {byte_start}"
                    )
                self.pos += 1
                url = self._read_until(")", ")")
                entity["length"] = self.length - entity["offset"]
                if entity["type"] == "custom_emoji":
                    entity["custom_emoji_id"] = url.partition("id=")[2]
                else:
                    entity["url"] = url
                if entity["length"] > 0:
                    self.entities.append(entity)
                continue
            if char in _MD2_RESERVED:
                raise _entity_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
            self._emit(char)
            self.pos += 1
        if self.stack:
            entity, byte_start = self.stack[-1]
            name = self._NAMES.get(entity["type"], entity["type"])
            raise _entity_error(f"Can't find end of {name} entity at byte offset {byte_start}")
        return "".join(self.out), _sorted(self.entities)

    def _blockquote(self) -> None:
        """Consecutive lines starting with ``>`` form one blockquote entity."""
        offset = self.length
        while (
            self.pos < len(self.src) and self.src[self.pos] == ">" and (self.pos == 0 or self.src[self.pos - 1] == "\n")
        ):
            self.pos += 1
            end = self.src.find("\n", self.pos)
            end = len(self.src) if end == -1 else end + 1
            line_parser = _MarkdownV2(self.src[self.pos : end])
            text, entities = line_parser.parse()
            for entity in entities:
                entity["offset"] += self.length
                self.entities.append(entity)
            self._emit(text)
            self.pos = end
        length = self.length - offset
        if self.out and self.out[-1].endswith("\n"):
            length -= 1  # the line feed after the quote is not part of it
        if length > 0:
            self.entities.append({"type": "blockquote", "offset": offset, "length": length})


def parse_markdown_v2(source: str) -> tuple[str, list[JSON]]:
    """Telegram ``MarkdownV2`` parse mode -> (plain text, entities)."""
    return _MarkdownV2(source).parse()


def parse_markdown(source: str) -> tuple[str, list[JSON]]:
    """Legacy ``Markdown``: ``*bold*``, ``_italic_``, ```code```, ``[text](url)``; no nesting."""
    out: list[str] = []
    length = 0
    entities: list[JSON] = []
    pos = 0
    markers = {"*": "bold", "_": "italic", "`": "code"}
    while pos < len(source):
        char = source[pos]
        if char == "\\" and pos + 1 < len(source) and source[pos + 1] in "_*`[":
            out.append(source[pos + 1])
            length += 1
            pos += 2
            continue
        if source.startswith("```", pos) or char in markers or char == "[":
            byte_start = len(source[:pos].encode())
            if source.startswith("```", pos):
                end = source.find("```", pos + 3)
                kind, inner_start, skip = "pre", pos + 3, 3
            elif char == "[":
                end = source.find("]", pos + 1)
                kind, inner_start, skip = "text_link", pos + 1, 1
            else:
                end = source.find(char, pos + 1)
                kind, inner_start, skip = markers[char], pos + 1, 1
            if end == -1:
                raise _entity_error(f"Can't find end of the entity starting at byte offset {byte_start}")
            inner = source[inner_start:end]
            entity: JSON = {"type": kind, "offset": length, "length": utf16_len(inner)}
            pos = end + skip
            if kind == "text_link":
                if not source.startswith("(", pos) or source.find(")", pos) == -1:
                    raise _entity_error(f"Can't find end of the entity starting at byte offset {byte_start}")
                close = source.find(")", pos)
                entity["url"] = source[pos + 1 : close]
                pos = close + 1
            out.append(inner)
            length += entity["length"]
            if entity["length"]:
                entities.append(entity)
            continue
        out.append(char)
        length += utf16_len(char)
        pos += 1
    return "".join(out), _sorted(entities)


def render(text: str, parse_mode: str | None, entities: Any = None) -> tuple[str, list[JSON]]:
    """Apply ``parse_mode`` (or explicit ``entities``, which take precedence as in the Bot API)."""
    if entities:
        if not isinstance(entities, list):
            raise bad_request("can't parse entities JSON object")
        return text, _sorted([dict(e) for e in entities])
    mode = (parse_mode or "").lower()
    if not mode:
        return text, []
    if mode == "html":
        return parse_html(text)
    if mode == "markdownv2":
        return parse_markdown_v2(text)
    if mode == "markdown":
        return parse_markdown(text)
    raise bad_request(f"unsupported parse_mode {parse_mode!r}")


def escape_html(text: str) -> str:
    """``html.escape`` without quoting apostrophes; what Telegram requires inside HTML text."""
    return html.escape(text, quote=False)
