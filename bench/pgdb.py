"""The scratch PostgreSQL database of a benchmark: its URL and its creation."""

from __future__ import annotations

import sys


def bench_database_url(url: str, name: str, *, script: str) -> str:
    """``url``'s server and user with database ``name``; exits unless it is PostgreSQL."""
    if not url.startswith(("postgres://", "postgresql://")):
        sys.exit(
            f"{script} measures PostgreSQL only: set DATABASE_URL to a postgres URL, e.g. "
            f"DATABASE_URL=postgres://postgres@127.0.0.1:5432/{name} "
            f"(got {url or 'nothing'!r})"
        )
    base = url.split("?", 1)[0].rsplit("/", 1)[0]
    return f"{base}/{name}"


def database_ensure(url: str) -> None:
    """Create the database of ``url`` when missing (before Django connects to it)."""
    import psycopg

    base, name = url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        if not conn.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            conn.execute(f'create database "{name}"')
