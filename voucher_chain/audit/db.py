"""Opening the index's database: a SQLite file by default, any SQLAlchemy URL otherwise.

Only SQLite is tested here. PostgreSQL (``postgresql+psycopg://…``) uses the same models and
portable SQL, but no test runs against it and no driver is a dependency: install one to use it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.orm import Session, sessionmaker

from voucher_chain.audit.errors import AuditError
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
    # NORMAL in WAL mode: a commit survives a process crash (kill -9), not a power cut; the
    # index is derived from the chain, so a lost tail is simply indexed again.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def open_database(target: str | Path) -> tuple[Engine, sessionmaker[Session]]:
    """The engine and a session factory; creates the tables if they are missing."""
    url = database_url(target)
    engine = create_engine(url)
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    Base.metadata.create_all(engine)
    _check_schema(engine)
    return engine, sessionmaker(engine, expire_on_commit=False)


def _check_schema(engine: Engine) -> None:
    """Refuses an index written by another version of the models (there are no migrations:
    the index is derived from the chain, so the remedy is to index again)."""
    inspector = inspect(engine)
    for table in Base.metadata.sorted_tables:
        stored = {c["name"] for c in inspector.get_columns(table.name)}
        missing = sorted(c.name for c in table.columns if c.name not in stored)
        if missing:
            raise AuditError(
                f"the index at {engine.url} was written by another version: table "
                f"{table.name} lacks {', '.join(missing)}; index into a new database"
            )
