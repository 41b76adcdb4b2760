"""Commands for the administrators who tune what is listened for: explain a text, run the
config's own examples, diff two configs against stored mentions. Registered in `cli.main`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from listener.cli.context import Ctx
from listener.config.model import load_config_file
from listener.errors import ListenerError


def _classifier(config):
    from listener.daemon.runner import build_classifier
    return build_classifier(config)


@click.command()
@click.argument("text", required=False)
@click.option("--mention", "mention_id", type=int, help="explain a stored mention by its id")
@click.option("--source", help="the platform the text came from (for source: filters)")
@click.option("--lang", help="the language the source reported (for lang: filters)")
@click.option("--author", help="the author (for author: filters)")
@click.option("--json", "as_json", is_flag=True, help="print JSON")
@click.pass_obj
def explain(obj: Ctx, text: str | None, mention_id: int | None, source: str | None,
            lang: str | None, author: str | None, as_json: bool) -> None:
    """Why TEXT matches a brand/product query (or not), its language, sentiment, topics with
    their evidence, severity, and which alert rules would count it."""
    from listener.tools.explain import explain_text, render
    if (text is None) == (mention_id is None):
        raise click.UsageError("give a TEXT or --mention ID (one of them)")
    stored = None
    if mention_id is not None:
        from sqlmodel import Session

        from listener.storage.models import Label, Mention
        with Session(obj.engine()) as s:
            m = s.get(Mention, mention_id)
            if m is None:
                raise ListenerError(f"no stored mention has id {mention_id}")
            lab = s.get(Label, mention_id)
            text, source, lang, author = m.text, m.source, m.lang, m.author
            stored = {"id": m.id, "url": m.url, "brand": m.brand, "product": m.product,
                      "sentiment": lab.sentiment if lab else None,
                      "topics": sorted(lab.topics) if lab else None,
                      "model_version": lab.model_version if lab else None}
    e = explain_text(obj.config, _classifier(obj.config), text, source=source, lang=lang,
                     author=author)
    if as_json:
        out = e.to_dict()
        if stored:
            out["stored"] = stored
        click.echo(json.dumps(out, ensure_ascii=False, indent=2))
        return
    if stored:
        labels = ("not classified yet" if stored["sentiment"] is None else
                  f"{stored['sentiment']}, topics {', '.join(stored['topics']) or 'none'} "
                  f"({stored['model_version']})")
        click.echo(f"mention:   #{stored['id']} {stored['url']}\nstored as: brand "
                   f"{stored['brand']}, product {stored['product'] or 'none'}; {labels}")
    click.echo(render(e))


@click.command("test")
@click.argument("path", required=False, type=click.Path(path_type=Path))
@click.pass_obj
def config_test(obj: Ctx, path: Path | None) -> None:
    """Run the config's should_match / should_not_match examples (brands, products, topics);
    print a table and each failure's explanation. Exit 1 on any failure."""
    from listener.tools.explain import needs_classifier, render_examples, run_examples
    cfg = load_config_file(path or obj.config_path)
    results = run_examples(cfg, _classifier(cfg) if needs_classifier(cfg) else None)
    if not results:
        click.echo("no examples in the config: add should_match / should_not_match lists to "
                   "brands, products or topics")
        return
    click.echo(render_examples(results))
    if not all(r.passed for r in results):
        sys.exit(1)


@click.command("diff")
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
