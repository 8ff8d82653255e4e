"""Bulk transfer with ``COPY``: PostgreSQL's binary COPY format straight to and from numpy arrays.

Rows of fixed-width fields only (int4, int8, float8, bool, fixed-length text), so a whole result is one
``np.frombuffer`` and a whole upload one ``tobytes``: no per-row Python, no text formatting or parsing, and
float8 values travel exactly. Reading numeric columns: cast them to float8 in the query (PostgreSQL converts
numeric's decimal text with a correctly rounded strtod, as psycopg2's float() does).

    rows = copy_out(cur, 'SELECT "Year"::int4, "X"::float8 FROM gamit_soln WHERE "Project" = %s', ("p",),
                    [("year", "i4"), ("x", "f8")])
    copy_in(cur, "stack_work_rows", [("run", "S32", run_ids), ("x", "f8", x), ...])
"""

from __future__ import annotations

import io
from typing import Any, Sequence

import numpy as np

SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_HEADER = SIGNATURE + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"  # flags 0, no header extension
_TRAILER = b"\xff\xff"


def _row_dtype(fields: Sequence[tuple[str, str]]) -> np.dtype:
    parts: list[tuple[str, str]] = [("_n", ">i2")]
    for k, (name, kind) in enumerate(fields):
        dt = np.dtype(kind)
        parts.append((f"_len{k}", ">i4"))
        parts.append((name, dt.newbyteorder(">") if dt.kind in "iuf" else dt))
    return np.dtype(parts)


def _binary_copy_out(cur, sql: str, params: Any) -> tuple[memoryview, int]:
    """``COPY (sql) TO STDOUT WITH BINARY``: the stream and where its first row starts (after the header)."""
    query = cur.mogrify(sql, params).decode() if params is not None else sql
    buf = io.BytesIO()
    cur.copy_expert(f"COPY ({query}) TO STDOUT WITH BINARY", buf)
    data = buf.getbuffer()
    if bytes(data[:11]) != SIGNATURE:
        raise ValueError("not a PostgreSQL binary COPY stream")
    return data, 19 + int.from_bytes(data[15:19], "big")


def copy_out(cur, sql: str, params: Any, fields: Sequence[tuple[str, str]]) -> np.ndarray:
    """Run ``COPY (sql) TO STDOUT WITH BINARY`` and return a structured array (native byte order) with one field
    per ``(name, numpy type)``; the query's columns must have those PostgreSQL types (int4 'i4', int8 'i8',
    float8 'f8', bool '?'). A NULL anywhere is a ValueError (cast or filter them away in the query)."""
    data, start = _binary_copy_out(cur, sql, params)
    body = data[start:len(data) - 2]
    dtype = _row_dtype(fields)
    if len(body) % dtype.itemsize:
        raise ValueError("COPY returned rows of unexpected width (a NULL, or a column of another type)")
    raw = np.frombuffer(body, dtype=dtype)
    for k, (name, kind) in enumerate(fields):
        if len(raw) and np.any(raw[f"_len{k}"] != np.dtype(kind).itemsize):
            raise ValueError(f"COPY column {name}: NULL or unexpected width")
    return np.array(raw[[name for name, _ in fields]].astype([(n, np.dtype(k)) for n, k in fields]))


def binary_stream(columns: Sequence[tuple[str, str, Any]]) -> io.BytesIO:
    """The binary COPY stream of columns ``(name, numpy type, values)``: a scalar value repeats on every row;
    'S<n>' is text of exactly n bytes (pad nothing: PostgreSQL stores what is sent)."""
    n = max((len(v) for _, _, v in columns if np.ndim(v)), default=0)
    dtype = _row_dtype([(name, kind) for name, kind, _ in columns])
    rows = np.empty(n, dtype=dtype)
    rows["_n"] = len(columns)
    for k, (name, kind, values) in enumerate(columns):
        rows[f"_len{k}"] = np.dtype(kind).itemsize
        rows[name] = values
    return io.BytesIO(_HEADER + rows.tobytes() + _TRAILER)


def copy_in(cur, table: str, columns: Sequence[tuple[str, str, Any]]) -> int:
    """``COPY table (names) FROM STDIN WITH BINARY`` of columns ``(name, numpy type, values)``; returns the
    number of rows. Names are quoted as given (pass '"Year"' for mixed case)."""
    stream = binary_stream(columns)
    names = ", ".join(name for name, _, _ in columns)
    cur.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH BINARY", stream)
    return cur.rowcount


def copy_in_blob(cur, table: str, key_column: str, key: str, blob_column: str, blob: bytes) -> None:
    """One row (text key, bytea value) with a binary COPY: the bytes go as they are (an INSERT would send
    them hex-encoded, twice their size and several times slower)."""
    import struct

    k = key.encode()
    row = struct.pack(">hi", 2, len(k)) + k + struct.pack(">i", len(blob))
    cur.copy_expert(f"COPY {table} ({key_column}, {blob_column}) FROM STDIN WITH BINARY",
                    io.BytesIO(_HEADER + row + blob + _TRAILER))


def copy_out_blob(cur, sql: str, params: Any) -> bytes | None:
    """The one bytea value ``sql`` selects (None without a row), with a binary COPY."""
    query = cur.mogrify(sql, params).decode() if params is not None else sql
    buf = io.BytesIO()
    cur.copy_expert(f"COPY ({query}) TO STDOUT WITH BINARY", buf)
    data = buf.getbuffer()
    start = 19 + int.from_bytes(data[15:19], "big")
    if int.from_bytes(data[start:start + 2], "big", signed=True) != 1:
        return None
    size = int.from_bytes(data[start + 2:start + 6], "big", signed=True)
    return bytes(data[start + 6:start + 6 + size]) if size >= 0 else None


def copy_in_record(cur, table: str, fields: Sequence[tuple[str, Any]]) -> None:
    """One row of ``(column, value)`` with a binary COPY: str goes as text, int as int4, bytes as bytea (as
    they are: an INSERT would send a large bytea hex-encoded, twice its size and several times slower)."""
    import struct

    parts = [struct.pack(">h", len(fields))]
    for name, value in fields:
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
        elif isinstance(value, str):
            data = value.encode()
        elif isinstance(value, int) and not isinstance(value, bool):
            data = struct.pack(">i", value)
        else:
            raise TypeError(f"copy_in_record: column {name}: {type(value).__name__} (str, int or bytes)")
        parts += [struct.pack(">i", len(data)), data]
    names = ", ".join(name for name, _ in fields)
    cur.copy_expert(f"COPY {table} ({names}) FROM STDIN WITH BINARY",
                    io.BytesIO(b"".join([_HEADER, *parts, _TRAILER])))


def copy_out_blobs(cur, sql: str, params: Any) -> list[bytes]:
    """The bytea values of the one column ``sql`` selects, in its order (NULLs left out), with a binary COPY."""
    data, at = _binary_copy_out(cur, sql, params)
    out = []
    while True:
        count = int.from_bytes(data[at:at + 2], "big", signed=True)
        if count == -1:
            return out
        if count != 1:
            raise ValueError("copy_out_blobs: the query must select one column")
        size = int.from_bytes(data[at + 2:at + 6], "big", signed=True)
        at += 6
        if size >= 0:
            out.append(bytes(data[at:at + size]))
            at += size
