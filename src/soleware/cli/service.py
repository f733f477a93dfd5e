"""``soleware serve``, ``soleware db upgrade``, ``soleware user create``: the run service."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

from soleware.cli._app import app

db_app = typer.Typer(help="The run service's database.", no_args_is_help=True)
user_app = typer.Typer(help="Runner accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")

DatabaseUrl = Annotated[
    str | None,
    typer.Option(
        "--database-url", envvar="SOLEWARE_DATABASE_URL", help="SQLAlchemy URL (default: SQLite file)"
    ),
]


@contextmanager
def database_errors(database_url: str | None) -> Iterator[None]:
    """Turn a database that cannot be opened (a malformed URL, another engine than SQLite or PostgreSQL, a server
    that does not answer, a file that cannot be created) into one line on stderr and exit status 2."""
    import sqlalchemy as sa

    shown = "the default SQLite file"
    if database_url:
        try:
            url = sa.engine.make_url(database_url)
        except sa.exc.ArgumentError:
            typer.echo(f"error: --database-url {database_url!r} is not a database URL", err=True)
            raise typer.Exit(2) from None
        shown = url.render_as_string(hide_password=True)
        if url.get_backend_name() not in ("sqlite", "postgresql"):
            typer.echo(f"error: {shown}: the run service keeps its runs in SQLite or PostgreSQL", err=True)
            raise typer.Exit(2)
    try:
        yield
    except (sa.exc.OperationalError, sa.exc.InterfaceError) as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        typer.echo(f"error: cannot open the database {shown}: {reason}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port")] = 8000,
    workers: Annotated[
        int, typer.Option(min=1, help="server processes (on SQLite, processes of one machine share its file)")
    ] = 1,
    database_url: DatabaseUrl = None,
) -> None:
    """Run the run service (API and web app)."""
    import os

    import uvicorn

    from soleware.runs.storage.db import make_engine

    with database_errors(database_url):  # once, here: each worker started would fail with a traceback
        engine = make_engine(database_url)
        with engine.connect():
            pass
        engine.dispose()
    if database_url:
        os.environ["SOLEWARE_DATABASE_URL"] = database_url
    uvicorn.run(
        "soleware.server.main:app",
        host=host,
        port=port,
        workers=workers,
        log_level="info",
        proxy_headers=False,
    )


@db_app.command("upgrade")
def db_upgrade(database_url: DatabaseUrl = None) -> None:
    """Migrate the database to the newest schema (safe to run again)."""
    from soleware.runs.storage.db import make_engine
    from soleware.runs.storage.migrate import current_revision, upgrade

    with database_errors(database_url):
        engine = make_engine(database_url)
        before = current_revision(engine)
        upgrade(engine)
        after = current_revision(engine)
    typer.echo(f"{engine.url.render_as_string(hide_password=True)}: {before or 'empty'} → {after}")


@user_app.command("create")
def user_create(
    email: Annotated[str, typer.Argument(help="e-mail address (the sign-in name)")],
    display_name: Annotated[str, typer.Option("--name", help="name shown in the app")] = "",
    locale: Annotated[str, typer.Option(help="en or zh")] = "en",
    time_zone: Annotated[str, typer.Option(help="IANA time zone, e.g. Asia/Shanghai")] = "UTC",
    password: Annotated[
        str, typer.Option(prompt=True, confirmation_prompt=True, hide_input=True, envvar="SOLEWARE_PASSWORD")
    ] = "",
    database_url: DatabaseUrl = None,
) -> None:
    """Create a runner account."""
    from soleware.runs.storage import RunStore
    from soleware.runs.storage.accounts import AccountError
    from soleware.runs.storage.db import make_engine
    from soleware.runs.storage.migrate import upgrade

    with database_errors(database_url):
        engine = make_engine(database_url)
        upgrade(engine)
    try:
        info = RunStore(engine).create_runner(
            email, password, display_name=display_name, locale=locale, time_zone=time_zone
        )
    except AccountError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"created {info.email} ({info.display_name}), id {info.id}")
