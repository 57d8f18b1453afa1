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


def check_output_folder(path, option: str = "--out", kind: str | None = None) -> None:
    """Create the results folder ``path`` and check that files can be written into it (before
    anything is computed), or raise a `UserError` saying why it cannot be one. ``kind``: the
    command's kind of results (``run``, ``compare``, ``sweep``, ``calibration``,
    ``sensitivity``): a folder holding another kind's results is refused, since writing there
    would mix the two and replace the other's manifest (its provenance)."""
    import json
    from pathlib import Path

    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise UserError(f"{option} = {folder}: is a file, not a folder; choose a folder name")
    manifest = folder / "manifest.json"
    if kind is not None and manifest.is_file():
        try:
            found = json.loads(manifest.read_text())
        except (OSError, ValueError):
            found = None
        other = found.get("kind", "run") if isinstance(found, dict) else None
        if other is not None and other != kind:
            raise UserError(
                f"{option} = {folder}: holds the results of `omnitrust {_COMMAND.get(other, other)}` "
                f"(manifest.json: kind = {other!r}); a {kind} written there would mix with them "
                "and replace their manifest; choose another folder"
            )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(
            f"{option} = {folder}: cannot create a folder there ({exc.strerror})"
        ) from None
    check_writable(folder, option)


_COMMAND = {"calibration": "calibrate"}  # a kind of results -> the command that writes it


def check_writable(folder, option: str = "--out", shown=None) -> None:
    """Raise a `UserError` unless a file can be created in the existing folder ``folder`` (a
    read-only file system, a folder without write permission): tried with a real file, which
    permissions alone do not tell (root, network file systems)."""
    import os
    import tempfile

    try:
        fd, probe = tempfile.mkstemp(prefix=".omnitrust-write-check-", dir=folder)
    except OSError as exc:
        where = "there" if shown is None else f"in {folder}"
        raise UserError(
            f"{option} = {shown or folder}: cannot write files {where} ({exc.strerror}); choose "
            "another folder"
        ) from None
    os.close(fd)
    os.unlink(probe)


def check_output_file(path, option: str = "--out") -> None:
    """Check that the file ``path`` can be written (its folder created if missing) before anything
    is computed, or raise a `UserError` saying why not."""
    from pathlib import Path

    file = Path(path)
    if file.is_dir():
        raise UserError(f"{option} = {file}: is a folder; give a file name")
    parent = file.parent
    if parent.exists() and not parent.is_dir():
        raise UserError(f"{option} = {file}: {parent} is a file, not a folder")
    try:
        parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"{option} = {file}: cannot create {parent} ({exc.strerror})") from None
    check_writable(parent, option, shown=file)


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
