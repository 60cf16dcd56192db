"""The source article, read from a configurable path: paragraphs and quote checks.

The project does not ship the article; checks that need its text read it from disk and say plainly when
it is absent instead of passing silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

# Paragraphs that carry no checkable point: title, photo captions, byline and section headings.
NON_POINT_PARAGRAPHS = frozenset({1, 2, 3, 4, 5, 7, 13, 18})


@dataclass(frozen=True, slots=True, kw_only=True)
class Article:
    """The article as numbered paragraphs (its non-empty lines, counted from 1)."""

    path: Path
    paragraphs: tuple[str, ...]

    @classmethod
    def load(cls, path: Path) -> Article:
        """Read the article; raises OSError when the file is missing or unreadable."""
        text = path.read_text(encoding="utf-8")
        return cls(path=path, paragraphs=tuple(line.strip() for line in text.splitlines() if line.strip()))

    def paragraph(self, number: int) -> str | None:
        """Paragraph `number` (1-based), or None when out of range."""
        return self.paragraphs[number - 1] if 1 <= number <= len(self.paragraphs) else None

    def point_paragraphs(self) -> tuple[int, ...]:
        """Numbers of the paragraphs that carry a point a question could be built on."""
        return tuple(n for n in range(1, len(self.paragraphs) + 1) if n not in NON_POINT_PARAGRAPHS)

    def locate(self, quote: str) -> tuple[int, ...]:
        """Every paragraph that contains `quote` verbatim."""
        return tuple(n for n, text in enumerate(self.paragraphs, 1) if quote in text)
