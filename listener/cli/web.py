"""`listener web`: serve the mention queue; `start_web` runs it beside the daemon (`listener
run` with `queue.web: true`)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from listener.cli.context import Ctx


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option("--at", "at", default=None,
              help="serve as if it were this UTC time (ISO 8601), e.g. to browse replayed data")
@click.pass_obj
def web(obj: Ctx, host: str, port: int, at: str | None) -> None:
    """Serve the mention queue (set LISTENER_WEB_SECRET to keep sessions across restarts)."""
    import uvicorn

    from listener.clock import SystemClock
    from listener.web import create_app

    clock = SystemClock()
    if at:
        fixed = _parse_time(at)
        clock = lambda: fixed  # noqa: E731
    app = create_app(obj.config, obj.engine(), clock, classifier=_classifier_for(obj.config))
    click.echo(f"mention queue on http://{host}:{port}/")
    uvicorn.run(app, host=host, port=port, log_level="warning")


def start_web(obj: Ctx, engine, clock, daemon=None):
    """The web queue beside the daemon (`queue.web: true`), or None. Stop it with `.stop()`.
    With the daemon, the app shares its classifier and follows its config reloads."""
    settings = obj.config.queue
    if not settings.web:
        return None
    from listener.web import create_app
    from listener.web.server import BackgroundServer

    if daemon is None:
        app = create_app(obj.config, engine, clock, classifier=_classifier_for(obj.config))
    else:
        app = create_app(daemon.config, engine, clock, classifier=lambda: daemon.classifier)
        daemon.on_reload.append(lambda config: setattr(app.state, "config", config))
    server = BackgroundServer(app, settings.host, settings.port).start()
    click.echo(f"mention queue on http://{settings.host}:{settings.port}/")
    return server


def _classifier_for(config):
    """Builds the classifier when the admin page first needs it (not at start: a model load)."""
    def build():
        from listener.daemon.runner import build_classifier
        return build_classifier(config)
    return build


def _parse_time(value: str) -> datetime:
    try:
        t = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from None
    return t if t.tzinfo else t.replace(tzinfo=UTC)
