"""`listener users add|token|list`: the web queue's accounts (listener/queue/users.py)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import click

from listener.cli.context import Ctx


@click.group("users")
def users_group() -> None:
    """Web queue accounts."""


@users_group.command("add")
@click.argument("name")
@click.option("--role", type=click.Choice(["agent", "admin"]), default="agent", show_default=True)
@click.pass_obj
def users_add(obj: Ctx, name: str, role: str) -> None:
    """Add an account; the password comes from LISTENER_PASSWORD or a prompt (never echoed)."""
    from sqlmodel import Session

    from listener.queue import users

    password = os.environ.get("LISTENER_PASSWORD") or click.prompt(
        "password", hide_input=True, confirmation_prompt=True)
    with Session(obj.engine()) as session:
        users.add_user(session, username=name, password=password, role=role,
                       now=datetime.now(UTC))
        session.commit()
    click.echo(f"added {role} {name}")


@users_group.command("token")
@click.argument("name")
@click.pass_obj
def users_token(obj: Ctx, name: str) -> None:
    """A new JSON API token for NAME, shown once (only its hash is stored)."""
    from sqlmodel import Session

    from listener.queue import users

    with Session(obj.engine()) as session:
        token = users.new_token(session, username=name, now=datetime.now(UTC))
        session.commit()
    click.echo(token)


@users_group.command("list")
@click.pass_obj
def users_list(obj: Ctx) -> None:
    """The accounts and their roles."""
    from sqlmodel import Session

    from listener.queue import users

    with Session(obj.engine()) as session:
        for u in users.users(session):
            click.echo(f"{u.username}\t{u.role}")
