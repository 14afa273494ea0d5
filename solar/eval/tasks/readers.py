"""Readers for local task files (jsonl, a JSON array, tsv, plain/bz2 text) that remember the line
each record came from, so a malformed file is reported as ``path:line: what is wrong``.
"""
from __future__ import annotations

import bz2
import csv
import json
import os
from typing import Iterator

__all__ = ["TaskFormatError", "read_jsonl", "read_json_array", "read_tsv", "read_lines"]


class TaskFormatError(ValueError):
    """A task file is malformed; the message names the file and the line."""

    def __init__(self, path: str | os.PathLike, line: int | None, problem: str):
        self.path, self.line, self.problem = os.fspath(path), line, problem
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


def _read_text(path: str | os.PathLike) -> str:
    p = os.fspath(path)
    try:
        raw = bz2.open(p, "rb").read() if p.endswith(".bz2") else open(p, "rb").read()
    except FileNotFoundError:
        raise
    except (OSError, EOFError) as e:   # truncated/corrupt bz2
        raise TaskFormatError(p, None, f"cannot read: {e}") from e
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise TaskFormatError(p, line, f"invalid UTF-8 at byte {e.start}") from e


def read_lines(path: str | os.PathLike) -> list[str]:
    """Lines of a text file (``.bz2`` decompressed), without line endings."""
    return _read_text(path).splitlines()


def read_jsonl(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """(line number, object) for every non-blank line."""
    for n, line in enumerate(read_lines(path), 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise TaskFormatError(path, n, f"invalid JSON: {e.msg} (column {e.colno})") from e
        if not isinstance(obj, dict):
            raise TaskFormatError(path, n, f"expected a JSON object, got {type(obj).__name__}")
        yield n, obj


def read_json_array(path: str | os.PathLike) -> Iterator[tuple[int, dict]]:
    """(line number where the element starts, object) for each element of a top-level JSON array."""
    text = _read_text(path)
    dec = json.JSONDecoder()
    line_of = lambda off: text.count("\n", 0, off) + 1
    try:
        i = _skip_ws(text, 0)
        if i >= len(text) or text[i] != "[":
            raise TaskFormatError(path, line_of(i), "expected a JSON array of objects")
        i = _skip_ws(text, i + 1)
        if i < len(text) and text[i] == "]":
            return
        while True:
            obj, end = dec.raw_decode(text, i)
            if not isinstance(obj, dict):
                raise TaskFormatError(path, line_of(i), f"expected a JSON object, got {type(obj).__name__}")
            yield line_of(i), obj
            i = _skip_ws(text, end)
            if i < len(text) and text[i] == ",":
                i = _skip_ws(text, i + 1)
                continue
            if i < len(text) and text[i] == "]":
                break
            raise TaskFormatError(path, line_of(i), "expected ',' or ']' after an array element")
    except json.JSONDecodeError as e:
        raise TaskFormatError(path, e.lineno, f"invalid JSON: {e.msg} (column {e.colno})") from e
    if _skip_ws(text, i + 1) != len(text):
        raise TaskFormatError(path, line_of(i + 1), "extra data after the JSON array")


def _skip_ws(text: str, i: int) -> int:
    while i < len(text) and text[i] in " \t\r\n":
        i += 1
    return i


def read_tsv(path: str | os.PathLike, required: tuple[str, ...]) -> Iterator[tuple[int, dict]]:
    """(line number, {header: field}) for each row of a tab-separated file with a header row.

    Quoting follows the csv module's (and pandas') defaults: a field that starts with ``"`` is
    quoted and ``""`` inside it is a literal quote.
    """
    text = _read_text(path)
    reader = csv.reader(text.splitlines(keepends=True), delimiter="\t")
    try:
        header = next(reader, None)
        if header is None:
            raise TaskFormatError(path, 1, "empty file (expected a header row)")
        missing = [c for c in required if c not in header]
        if missing:
            raise TaskFormatError(path, 1, f"header lacks column(s) {', '.join(missing)}; has {', '.join(header)}")
        for row in reader:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != len(header):
                raise TaskFormatError(path, reader.line_num,
                                      f"expected {len(header)} tab-separated fields, got {len(row)}")
            yield reader.line_num, dict(zip(header, row))
    except csv.Error as e:
        raise TaskFormatError(path, reader.line_num, f"bad TSV: {e}") from e
