"""`listener demo`: replay the built-in two-day stream (listener/tools/demo.py does it)."""

from __future__ import annotations

import click

from listener.cli.context import Ctx


@click.command()
@click.option("--speed", type=float, default=None, help="simulated seconds per real second")
@click.option("--keep", is_flag=True, help="keep the demo database from the last run")
@click.pass_obj
def demo(obj: Ctx, speed: float | None, keep: bool) -> None:
    """Replay the built-in two-day stream and show the crisis alert (no accounts needed)."""
    from listener.tools.demo import run_demo
    run_demo(obj, speed=speed, keep=keep)
