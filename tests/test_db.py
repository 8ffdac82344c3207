"""Database URLs and engines: resolution order, password masking, clear errors."""

from __future__ import annotations

import pytest

from etl import db
from etl.errors import ConfigError, DatabaseError


def test_url_comes_from_the_argument_then_the_environment_then_the_default(monkeypatch):
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    assert db.resolve_url(None) == "sqlite:///papers.db"
    monkeypatch.setenv(db.ENV_VAR, "sqlite:///from-env.db")
    assert db.resolve_url(None) == "sqlite:///from-env.db"
    assert db.resolve_url("sqlite:///explicit.db") == "sqlite:///explicit.db"


def test_safe_url_masks_the_password():
    shown = db.safe_url("postgresql+psycopg://etl:s3cret-pw@db.example:5432/papers")
    assert "s3cret-pw" not in shown
    assert shown == "postgresql+psycopg://etl:***@db.example:5432/papers"


def test_plain_postgresql_url_uses_psycopg_3():
    assert db.normalise_url("postgresql://u@h/d").drivername == "postgresql+psycopg"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u@h/d", "only SQLite and PostgreSQL"),
        ("not a url", "is not a database URL"),
        ("sqlite:////no/such/folder/papers.db", "does not exist"),
    ],
)
def test_unusable_urls_are_config_errors(url, message):
    with pytest.raises(ConfigError, match=message):
        db.create_engine(url)


def test_a_server_that_does_not_answer_gives_a_one_line_error_without_the_password():
    engine = db.create_engine("postgresql+psycopg://etl:s3cret-pw@127.0.0.1:1/papers")
    with pytest.raises(DatabaseError) as caught:
        db.current_revision(engine)
    message = str(caught.value)
    assert "s3cret-pw" not in message
    assert "127.0.0.1:1" in message and "check that the server is up" in message
    assert "\n" not in message


def test_sqlite_engine_enforces_foreign_keys_and_uses_wal(tmp_path):
    engine = db.create_engine(f"sqlite:///{tmp_path / 'p.db'}")
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar_one() == 1
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"
    engine.dispose()
