"""The `listener` command: the root group, which turns the listener's errors into messages and
exit codes, and the registration of the commands. `listener X` and `listener X Y` live in
`cli/X.py`, except two families: collect, classify and detect (the pipeline's steps, run once)
share `cli/pipeline.py`, and backfill is beside sources in `cli/sources.py`. Only the CLI
prints for the user and exits."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import click

from listener.cli.backtest import backtest
from listener.cli.bench import bench
from listener.cli.config import config
from listener.cli.context import Ctx
from listener.cli.db import db_group
from listener.cli.demo import demo
from listener.cli.digest import digest
from listener.cli.eval import eval_group
from listener.cli.explain import explain
from listener.cli.incidents import incidents
from listener.cli.mentions import mentions
from listener.cli.pipeline import classify, collect, detect
from listener.cli.run import run
from listener.cli.silence import silence_group
from listener.cli.sources import backfill, sources
from listener.cli.train import train
from listener.cli.users import users_group
from listener.cli.web import web
from listener.errors import ConfigError, ListenerError


def _fail(exc: Exception, code: int) -> None:
    click.echo(str(exc), err=True)
    sys.exit(code)


class Group(click.Group):
    """Turns the listener's errors into messages and exit codes (2 for config errors)."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            _fail(exc, 2)
        except ListenerError as exc:
            _fail(f"error: {exc}", 1)


@click.group(cls=Group)
@click.option("--config", "config_path", type=click.Path(path_type=Path), default="config.yaml",
              show_default=True, help="the config file")
@click.option("--database-url", envvar="LISTENER_DATABASE_URL",
              help="SQLAlchemy URL of the store (overrides the config)")
@click.option("-v", "--verbose", count=True, help="more log output (-vv for debug)")
@click.pass_context
def main(ctx, config_path: Path, database_url: str | None, verbose: int) -> None:
    """Social listening and crisis detection: collect, classify, detect, alert."""
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(verbose, 2)]
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for noisy in ("apscheduler", "httpx", "urllib3", "transformers"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    ctx.obj = Ctx(config_path, database_url, verbose)


for command in (run, collect, classify, detect, mentions, incidents, sources, backfill, explain,
                config, silence_group, backtest, digest, demo, web, users_group, train,
                eval_group, bench, db_group):
    main.add_command(command)
