"""Report tests' database: a fresh SQLite file per test (engines are disposed by the shared autouse fixture)."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from db.engine import open_engine


@pytest.fixture
def db(sqlite_url: str) -> tuple[str, Engine]:
    return sqlite_url, open_engine(sqlite_url)
