"""One small DuckDB database per process for the few values the numpy views and metrics ask DuckDB about (local
times of distinct hours, label matches): DuckDB's own functions, exactly as the SQL definitions apply them.

One database, one thread, shared by every caller through cursors: a database per caller started a thread pool and
arenas of its own each, which a process limited in address space (the hostile-input corpus) could not afford.
"""

from __future__ import annotations

import os
import threading

import duckdb

_LOCK = threading.Lock()
_DATABASES: dict[int, duckdb.DuckDBPyConnection] = {}  # by process: a forked worker opens its own


def cursor() -> duckdb.DuckDBPyConnection:
    """A connection of its own to the process's scratch database (one thread, times in UTC)."""
    with _LOCK:
        database = _DATABASES.get(os.getpid())
        if database is None:
            database = _DATABASES[os.getpid()] = duckdb.connect(":memory:", config={"threads": 1})
            database.execute("SET GLOBAL TimeZone = 'UTC'")
        return database.cursor()
