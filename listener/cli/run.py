"""`listener run`: the daemon in the foreground, with the web queue beside it when the config
asks for it (`queue.web`)."""

from __future__ import annotations

import logging

import click

from listener.cli.context import Ctx


@click.command()
@click.pass_obj
def run(obj: Ctx) -> None:
    """Run the daemon until SIGINT or SIGTERM; SIGHUP or saving the config file reloads it."""
    from listener.daemon.runner import build_daemon
    if obj.verbose == 0:
        logging.getLogger().setLevel(logging.INFO)
    daemon = build_daemon(obj.config, obj.config_dir, engine=obj.engine(),
                          config_path=obj.config_path)
    from listener.cli.web import start_web
    web = start_web(obj, daemon.engine, daemon.clock, daemon=daemon)
    try:
        daemon.run()
    finally:
        if web is not None:
            web.stop()
