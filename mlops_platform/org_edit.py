"""Edit ``organization.yaml`` in place: add or remove a list item, rewrite a one-line list.

Only the lines that change are touched: ruamel.yaml's round-trip loader says where every item and
value sits (line and column), the edits are made on the text, so comments, blank lines, key order,
quoting and hand-wrapped lists stay exactly as the user wrote them. The caller validates the result
before writing it (``mlops-platform add ...`` / ``remove ...``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError


class EditError(Exception):
    """The file cannot be edited this way; the message is one line."""


def _scalar(value: Any) -> str:
    """One YAML scalar as PyYAML would write it (quoted only when needed)."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000).strip()
    return text.removesuffix("\n...").removesuffix("...").strip()


def _inline(value: Any) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    return _scalar(value)


def render_item(item: Mapping[str, Any], dash_column: int, offset: int = 2) -> list[str]:
    """A mapping as a block-sequence item at ``dash_column``; lists of mappings as nested items."""
    lines: list[str] = []
    inner = dash_column + offset
    for position, (key, value) in enumerate(item.items()):
        lead = " " * dash_column + "- " if position == 0 else " " * inner
        if isinstance(value, list) and value and all(isinstance(v, Mapping) for v in value):
            lines.append(f"{lead}{key}:\n")
            for entry in value:
                lines += render_item(entry, inner + offset, offset)
        else:
            lines.append(f"{lead}{key}: {_inline(value)}\n")
    return lines


class OrganizationText:
    """The text of ``organization.yaml`` and where its parts are."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        try:
            self.document = YAML().load(text)
        except YAMLError as exc:
            raise EditError(f"organization.yaml cannot be read: {str(exc).splitlines()[0]}") from None
        if not isinstance(self.document, CommentedMap):
            raise EditError("organization.yaml must be a mapping of keys to values")

    @property
    def text(self) -> str:
        return "".join(self.lines)

    def items(self, key: str) -> list[Any]:
        value = self.document.get(key)
        return list(value) if isinstance(value, CommentedSeq) else []

    def _sequence(self, key: str) -> CommentedSeq:
        value = self.document.get(key)
        if not isinstance(value, CommentedSeq):
            raise EditError(f"organization.yaml: {key} is not a list")
        return value

    def _dash_column(self, line: int) -> int:
        text = self.lines[line]
        return len(text) - len(text.lstrip(" "))

    def _item_span(self, sequence: CommentedSeq, index: int) -> tuple[int, int]:
        """Lines [start, end) of one item of a block sequence, without the blank lines after it."""
        start = sequence.lc.item(index)[0]
        if index + 1 < len(sequence):
            end = sequence.lc.item(index + 1)[0]
        else:
            column, end = self._dash_column(start), start + 1
            while end < len(self.lines):
                line = self.lines[end]
                if line.strip() and len(line) - len(line.lstrip(" ")) <= column:
                    break
                end += 1
        while end > start + 1 and not self.lines[end - 1].strip():
            end -= 1
        return start, end

    def remove(self, key: str, name: str) -> None:
        """Delete the item of list ``key`` whose ``name`` is ``name``."""
        sequence = self._sequence(key)
        index = next((i for i, item in enumerate(sequence) if isinstance(item, Mapping) and item.get("name") == name), None)
        if index is None:
            raise EditError(f"organization.yaml: {key} has no entry named {name!r}")
        if sequence.fa.flow_style():
            raise EditError(f"organization.yaml: {key} is a one-line list; edit it by hand")
        start, end = self._span_with_comments(sequence, index)
        del self.lines[start:end]
        self._reload()

    def _span_with_comments(self, sequence: CommentedSeq, index: int) -> tuple[int, int]:
        start, end = self._item_span(sequence, index)
        # Comment lines right above the item belong to it (a note about that person or project).
        column = self._dash_column(start)
        while start > 0 and self.lines[start - 1].strip().startswith("#") and self._dash_column(start - 1) >= column:
            start -= 1
        return start, end

    def append(self, key: str, item: Mapping[str, Any]) -> None:
        """Add ``item`` at the end of list ``key`` (creating the list at the end of the file)."""
        value = self.document.get(key)
        if value is None or (isinstance(value, CommentedSeq) and not value):
            if key in self.document:
                raise EditError(f"organization.yaml: {key} is empty or null; give it one entry by hand first")
            block = [f"{key}:\n", *render_item(item, 2)]
            if self.lines and self.lines[-1].strip():
                block.insert(0, "\n")
            self.lines += block
        else:
            sequence = self._sequence(key)
            if sequence.fa.flow_style():
                raise EditError(f"organization.yaml: {key} is a one-line list; edit it by hand")
            _, end = self._item_span(sequence, len(sequence) - 1)
            self.lines[end:end] = render_item(item, self._dash_column(sequence.lc.item(0)[0]))
        self._reload()

    def set_list(self, key: str, name: str, field: str, values: Sequence[str]) -> None:
        """Rewrite ``<key>[name=name].<field>`` (a list of names) to ``values``."""
        entry = next((item for item in self.items(key) if isinstance(item, Mapping) and item.get("name") == name), None)
        if entry is None:
            raise EditError(f"organization.yaml: {key} has no entry named {name!r}")
        current = entry.get(field)
        line, column = entry.lc.value(field) if field in entry else (None, None)
        if isinstance(current, CommentedSeq) and current.fa.flow_style():
            text = self.lines[line]
            close = text.find("]", column)
            if close == -1:
                raise EditError(f"organization.yaml: {key} {name}: {field} spans several lines; edit it by hand")
            self.lines[line] = text[:column] + _inline(list(values)) + text[close + 1 :]
        elif isinstance(current, CommentedSeq) and current:
            first, last = current.lc.item(0)[0], current.lc.item(len(current) - 1)[0]
            dash = self.lines[first][: self._dash_column(first)]
            self.lines[first : last + 1] = [f"{dash}- {_scalar(v)}\n" for v in values]
            if not values:  # an empty block list would read as null
                key_line = entry.lc.key(field)[0]
                self.lines[key_line] = self.lines[key_line].rstrip("\n").rstrip() + " []\n"
        else:
            raise EditError(f"organization.yaml: {key} {name}: no {field} list to change")
        self._reload()

    def _reload(self) -> None:
        try:
            self.document = YAML().load(self.text)
        except YAMLError as exc:  # an edit that broke the file is a bug here, never written
            raise EditError(f"organization.yaml: the edit would not parse ({str(exc).splitlines()[0]})") from None
