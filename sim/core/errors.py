"""Errors in what the user gave us: files, options, values.

The CLI catches `UserError` (and so every subclass) centrally, prints the message and exits with
code 2 without a traceback: these are mistakes to fix in the input, not bugs. Anything else that
escapes is a bug and keeps its traceback.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

NO_VALUE: Any = object()
"""Marker for a `ScenarioError` without an offending value (e.g. a missing key)."""


class UserError(Exception):
    """Bad input from the user (a file, an option, a value): message only, exit code 2."""


def check_output_folder(path, option: str = "--out") -> None:
    """Create the results folder ``path``, or raise a `UserError` saying why it cannot be one."""
    from pathlib import Path

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{option} = {folder}: is a file, not a folder; choose a folder name")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"{option} = {folder}: cannot create a folder there ({exc.strerror})"
        ) from None


class ScenarioError(UserError):
    """One problem in a scenario file, located as precisely as we can.

    file: the file the problem is in (for a value inherited through ``extends``, the file that
        sets it).
    field: dotted, indexed path to the offending key, e.g. ``brands[1].policy.transparency``
        (``None`` when the problem is the file as a whole, e.g. a syntax error).
    value: the offending value as read from the file (absent when there is none, e.g. a missing
        key).
    allowed: what would be accepted, in words (``None`` when there is nothing useful to say).
    line, column: position in the file, for TOML syntax errors.

    ``str()`` gives one line: ``file: field = value: message (allowed)``.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | Path | None = None,
        field: str | None = None,
        value: Any = NO_VALUE,
        allowed: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ):
        self.message = message
        self.file = None if file is None else str(file)
        self.field = field
        self.value = value
        self.allowed = allowed
        self.line = line
        self.column = column
        super().__init__(str(self))

    @property
    def has_value(self) -> bool:
        """Whether the error carries an offending value (a missing key has none)."""
        return self.value is not NO_VALUE

    def __str__(self) -> str:
        where: list[str] = []
        if self.file is not None:
            where.append(self.file)
        if self.line is not None:
            where.append(f"line {self.line}" + (f", column {self.column}" if self.column else ""))
        if self.field:
            where.append(
                f"{self.field} = {toml_literal(self.value)}" if self.has_value else self.field
            )
        text = ": ".join([*where, self.message])
        return f"{text} ({self.allowed})" if self.allowed else text


class ScenarioErrors(ScenarioError):
    """Several problems found in one scenario file at once, one per line in ``str()``.

    A subclass of `ScenarioError` so that callers can catch both with one clause; iterate over it
    (or use ``.errors``) to get the individual errors.
    """

    def __init__(self, errors: Sequence[ScenarioError], file: str | Path | None = None):
        if not errors:
            raise ValueError("ScenarioErrors needs at least one error")
        self.errors = list(errors)
        super().__init__(
            f"{len(self.errors)} problem(s)", file=file if file is not None else errors[0].file
        )

    def __iter__(self) -> Iterator[ScenarioError]:
        return iter(self.errors)

    def __len__(self) -> int:
        return len(self.errors)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


def toml_literal(value: Any, limit: int = 80) -> str:
    """``value`` written as it would appear in a TOML file (strings quoted, true/false, lists),
    shortened to about ``limit`` characters."""
    text = _literal(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def toml_key(key: Any) -> str:
    """A TOML key: bare when it can be (``transparency``), else quoted (a brand ``"Big Box"``)."""
    text = str(key)
    return text if re.fullmatch(r"[A-Za-z0-9_-]+", text) else _literal(text)


def _literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):  # JSON's escapes are TOML's, but TOML also forbids a raw DEL
        return json.dumps(value, ensure_ascii=False).replace("\x7f", "\\u007f")
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{toml_key(k)} = {_literal(v)}" for k, v in value.items()) + "}"
    return str(value)
