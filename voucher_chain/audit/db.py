"""Opening the index's database: a SQLite file by default, any SQLAlchemy URL otherwise.

Only SQLite is tested here. PostgreSQL (``postgresql+psycopg://…``) uses the same models and
portable SQL, but no test runs against it and no driver is a dependency: install one to use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from voucher_chain.audit.models import Base

__all__ = ["database_url", "open_database"]


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL for ``target``: a URL is kept, a path becomes a SQLite file URL."""
    text = str(target)
    if "://" in text:
        return text
    return f"sqlite:///{Path(text).resolve()}"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_database(target: str | Path) -> tuple[Engine, sessionmaker[Session]]:
    """The engine and a session factory; creates the tables if they are missing."""
    url = database_url(target)
    engine = create_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    Base.metadata.create_all(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)
