"""`listener config check|test|diff`: validate the config, run its own should_match /
should_not_match examples, and diff two configs against the stored mentions (for the
administrators who tune what is listened for)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from listener.cli.context import Ctx
from listener.cli.tables import table
from listener.config import load_config_file
from listener.tools.explain import ExampleResult


def _classifier(config):
    from listener.daemon.runner import build_classifier
    return build_classifier(config)


@click.group()
def config() -> None:
    """Check, test and diff the config."""


@config.command("check")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def config_check(obj: Ctx, path: Path | None) -> None:
    """Validate PATH (default: --config). Exit 0 when valid, 2 with the problems when not."""
    path = path or obj.config_path
    cfg = load_config_file(path)
    click.echo(f"{path}: OK ({len(cfg.brands)} brand(s), {len(cfg.enabled_sources())} "
               f"source(s), {len(cfg.topics)} topic(s), {len(cfg.alerts.rules)} rule(s))")


@config.command("test")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def config_test(obj: Ctx, path: Path | None) -> None:
    """Run the config's should_match / should_not_match examples (brands, products, topics);
    print a table and each failure's explanation. Exit 1 on any failure."""
    from listener.tools.explain import needs_classifier, run_examples
    cfg = load_config_file(path or obj.config_path)
    results = run_examples(cfg, _classifier(cfg) if needs_classifier(cfg) else None)
    if not results:
        click.echo("no examples in the config: add should_match / should_not_match lists to "
                   "brands, products or topics")
        return
    click.echo(render_examples(results))
    if not all(r.passed for r in results):
        sys.exit(1)


@config.command("diff")
@click.argument("old", type=click.Path(path_type=Path))
@click.argument("new", type=click.Path(path_type=Path))
@click.option("--since", default="7d", show_default=True,
              help="period of stored mentions to re-match, ending at the newest one")
@click.option("--examples", default=3, show_default=True, help="example texts per change")
@click.pass_obj
def config_diff(obj: Ctx, old: Path, new: Path, since: str, examples: int) -> None:
    """What changes from OLD to NEW: keys added, removed or changed (secrets masked), and how
    many stored mentions of the period would newly match or stop matching each brand, product
    and topic, with examples. The store is NEW's database (or --database-url)."""
    from listener.config.types import parse_duration
    from listener.daemon.runner import build_engine, topic_specs
    from listener.tools import config_diff as configdiff
    try:
        period = parse_duration(since)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--since") from None
    a, b = load_config_file(old), load_config_file(new)
    changes = configdiff.key_changes(a, b)
    embed = None
    if topic_specs(a) != topic_specs(b):
        embed = _classifier(b).encoder.encode
    engine = build_engine(b, new.resolve().parent, obj.database_url)
    report = configdiff.stored_effects(engine, a, b, since=period, embed=embed,
                                       examples=examples)
    click.echo(configdiff.render(changes, report))


def render_examples(results: list[ExampleResult]) -> str:
    """The examples' results as `listener config test` prints them."""
    rows = [{"result": "pass" if r.passed else "FAIL", "kind": r.kind, "name": r.name,
             "expect": r.expect.replace("_", " "), "text": r.text} for r in results]
    lines = [table(rows, ["result", "kind", "name", "expect", "text"])]
    failed = [r for r in results if not r.passed]
    if failed:
        lines.append("")
        lines.append("failures:")
        for r in failed:
            lines.append(f"  {r.kind} {r.name} {r.expect.replace('_', ' ')}: {r.text}")
            lines.append(f"    why: {r.explanation}")
    lines.append("")
    lines.append(f"{len(results) - len(failed)} passed, {len(failed)} failed")
    return "\n".join(lines)
