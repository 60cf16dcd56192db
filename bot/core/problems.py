"""One thing wrong with the bank, as people read it: `file:line: id: what is wrong`."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True, kw_only=True)
class Problem:
    """One thing wrong with the bank."""

    file: str
    line: int
    question_id: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.question_id}: {self.message}"

    @classmethod
    def at(cls, location: str, question_id: str, message: str) -> Problem:
        """A problem at a question's `file:line` location."""
        file, _, line = location.rpartition(":")
        return cls(file=file, line=int(line) if line.isdigit() else 0, question_id=question_id, message=message)
