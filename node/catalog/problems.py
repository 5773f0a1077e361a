"""Problems of a catalog import, each named by sheet (or entity list), row, column and reason.

A :class:`CatalogSource` is a document to import with the :class:`Origin` of each item, so
that a problem found in the JSON document or in a workbook row names where it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from schemas.errors import ValidationFailed
from schemas.i18n import _

Path = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """One bad cell or item: the sheet (or entity list), row, column (or field) and reason."""

    sheet: str
    row: int | None
    column: str | None
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "reason": self.reason}


def path_text(path: Path) -> str:
    """``("materials", 0, "name")`` as ``materials[1].name`` (positions count from 1, like rows)."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{part}" if text else part
    return text


@dataclass(frozen=True)
class Origin:
    """Where one item of a document came from, so that a problem can name it.

    ``columns`` maps a field path (``"legal_limit_days"``, ``"powers.accept"``) to the column
    heading it was read from; a field without a heading is named by its path. ``children``
    holds the origins of list elements kept elsewhere (a matter's materials in their own
    sheet). ``hints`` adds the accepted values to any reason about that field.
    """

    sheet: str
    row: int | None
    columns: Mapping[str, str] = field(default_factory=dict)
    children: Mapping[str, Sequence[Origin]] = field(default_factory=dict)
    hints: Mapping[str, str] = field(default_factory=dict)

    def problem(self, path: Path, reason: str) -> Problem:
        """The problem ``reason`` about the field at ``path`` of this item."""
        if len(path) >= 2 and isinstance(path[0], str) and isinstance(path[1], int):
            elements = self.children.get(path[0], ())
            if 0 <= path[1] < len(elements):
                return elements[path[1]].problem(path[2:], reason)
        for end in range(len(path), 0, -1):
            key = path_text(path[:end])
            if key in self.columns:
                hint = self.hints.get(key)
                return Problem(
                    self.sheet, self.row, self.columns[key], f"{reason} {hint}" if hint else reason
                )
        return Problem(self.sheet, self.row, path_text(path) or None, reason)


@dataclass
class CatalogSource:
    """A catalog document to import, where each item came from, and problems found reading it.

    ``origins`` is keyed by ``(entity, index in the entity list)``; an item without an
    origin is named as in a JSON document: sheet = the entity list, row = its position from 1.
    """

    document: Any
    origins: dict[tuple[str, int], Origin] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def origin(self, entity: str, index: int) -> Origin:
        return self.origins.get((entity, index)) or Origin(entity, index + 1)


class CatalogImportError(ValidationFailed):
    """An import found problems and changed nothing; ``details["rows"]`` lists every one."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(
            {},
            _("The catalog has %(count)s problem(s); nothing was imported. "
              "Each is listed with its sheet, row, column and reason.", count=len(problems)),
        )
        self.problems = tuple(problems)
        self.details = {"rows": [problem.as_dict() for problem in self.problems]}


class UnreadableWorkbook(ValidationFailed):
    """The upload is not an XLSX workbook, or not one holding a catalog."""

    code = "unreadable_workbook"

    def __init__(self, reason: str) -> None:
        super().__init__(
            {"file": [reason]},
            _("The upload is not a readable catalog workbook: %(reason)s", reason=reason),
        )


_SHEET_RANK = {
    "document": 0,
    "departments": 1,
    "windows": 2,
    "staff": 3,
    "matters": 4,
    "部门": 1,
    "窗口": 2,
    "人员": 3,
    "事项": 4,
    "申报材料": 5,
}


def in_order(problems: Iterable[Problem]) -> list[Problem]:
    """Problems without repeats, by sheet and row; a row's problems keep their order."""
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (_SHEET_RANK.get(p.sheet, 9), p.sheet, p.row or 0))


def flatten_messages(messages: Any, path: Path = ()) -> Iterator[tuple[Path, str]]:
    """marshmallow's nested error messages as ``(field path, message)`` pairs."""
    if isinstance(messages, Mapping):
        for key, value in messages.items():
            yield from flatten_messages(value, path if key == "_schema" else (*path, key))
    elif isinstance(messages, list | tuple):
        for message in messages:
            yield from flatten_messages(message, path)
    else:
        yield path, str(messages)
