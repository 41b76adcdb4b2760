"""`listener explain`: why a text (or a stored mention) matches a brand or product query or not,
its labels with their evidence, and which alert rules would count it."""

from __future__ import annotations

import json

import click

from listener.cli.context import Ctx
from listener.errors import ListenerError


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
    from listener.daemon.runner import build_classifier
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
    e = explain_text(obj.config, build_classifier(obj.config), text, source=source, lang=lang,
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
