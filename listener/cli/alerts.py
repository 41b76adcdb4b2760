"""`listener silence ...` and `listener backtest`: operator commands around the alert lifecycle.

Silences are stored in the `silences` table and applied by the detect step (alerts/silences.py
decides); the backtest replays stored mentions through detection (listener/backtest.py).
"""

from __future__ import annotations

import getpass
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import click

from listener.cli.context import Ctx
from listener.errors import ListenerError


def _time(value: str | None, what: str) -> datetime | None:
    if not value:
        return None
    from listener.sources.replay import parse_time
    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r}: {exc}", param_hint=what) from None


SILENCE_OPTIONS = {"matchers": "--match", "duration": "--for", "comment": "--comment"}


@click.group("silence")
def silence_group() -> None:
    """Mute the notifications of matching incidents for a while (as in Alertmanager)."""


@silence_group.command("add")
@click.option("--match", "matchers", multiple=True, required=True,
              help="label matcher: NAME=VALUE, NAME!=VALUE, NAME=~REGEX or NAME!~REGEX on "
                   "brand, product, topic, rule; repeat for several (all must match)")
@click.option("--for", "duration", default="2h", show_default=True, help="how long it lasts")
@click.option("--start", help="when it starts (ISO 8601; default now)")
@click.option("--comment", required=True, help="why: shown in every decision it causes")
@click.option("--author", default=None, help="who (default: $USER)")
@click.pass_obj
def silence_add(obj: Ctx, matchers: tuple[str, ...], duration: str, start: str | None,
                comment: str, author: str | None) -> None:
    """Add a silence and print its id."""
    from sqlmodel import Session

    from alerts.matchers import Matcher
    from listener.incidents import manual as incidents
    now = datetime.now(UTC)
    starts = _time(start, "--start") or now
    author = author or os.environ.get("USER") or getpass.getuser()
    with Session(obj.engine()) as s:
        # the same rules as the silence pages and the API (listener/incidents.py)
        try:
            silence = incidents.add_silence(s, matchers=list(matchers), duration=duration,
                                            comment=comment, user=author, now=now, starts=starts)
        except incidents.SilenceError as exc:
            raise click.BadParameter(str(exc).removeprefix(f"{exc.field}: "),
                                     param_hint=SILENCE_OPTIONS[exc.field]) from None
        s.commit()
        shown = ", ".join(str(Matcher(**m)) for m in silence.matchers)
        click.echo(f"silence #{silence.id}: {shown} from "
                   f"{silence.starts_at:%Y-%m-%d %H:%M} until {silence.ends_at:%Y-%m-%d %H:%M} UTC")


@silence_group.command("list")
@click.option("--all", "show_all", is_flag=True, help="include expired silences")
@click.option("--format", "fmt", type=click.Choice(["table", "jsonl"]), default="table",
              show_default=True)
@click.pass_obj
def silence_list(obj: Ctx, show_all: bool, fmt: str) -> None:
    """List the active and pending silences (with --all, the expired ones too)."""
    from sqlmodel import Session

    from listener.cli.tables import table
    from listener.storage import store
    now = datetime.now(UTC)
    with Session(obj.engine()) as s:
        rows = [silence_record(x, now)
                for x in store.silences(s, ending_after=None if show_all else now)]
    if fmt == "jsonl":
        for r in rows:
            click.echo(json.dumps(r, ensure_ascii=False))
        return
    click.echo(table(rows, ["id", "state", "matchers", "starts_at", "ends_at", "created_by",
                            "comment"]))


def silence_record(s, now: datetime) -> dict:
    from alerts.matchers import Matcher
    state = "pending" if now < s.starts_at else "active" if now < s.ends_at else "expired"
    return {"id": s.id, "state": state,
            "matchers": " ".join(str(Matcher(**m)) for m in s.matchers),
            "starts_at": s.starts_at.isoformat(timespec="seconds"),
            "ends_at": s.ends_at.isoformat(timespec="seconds"),
            "created_by": s.created_by, "comment": s.comment}


@silence_group.command("expire")
@click.argument("silence_id", type=int)
@click.pass_obj
def silence_expire(obj: Ctx, silence_id: int) -> None:
    """End silence ID now."""
    from sqlmodel import Session

    from listener.storage import store
    now = datetime.now(UTC)
    with Session(obj.engine()) as s:
        silence = store.expire_silence(s, silence_id=silence_id, now=now)
        if silence is None:
            raise ListenerError(f"no silence #{silence_id}; see `listener silence list --all`")
        s.commit()
        click.echo(f"silence #{silence_id} expired at {silence.ends_at:%Y-%m-%d %H:%M} UTC")


@click.command("backtest")
@click.option("--since", required=True,
              help="start: a duration back from now (30d) or a time (ISO 8601)")
@click.option("--until", default=None, help="end: a duration back from now or a time (default now)")
@click.option("--against", "against_path", type=click.Path(exists=True, path_type=Path),
              default=None, help="a second config to compare with")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
@click.pass_obj
def backtest(obj: Ctx, since: str, until: str | None, against_path: Path | None,
             as_json: bool) -> None:
    """Replay the stored mentions through the config's brand matching, the stored labels and the
    alert rules on the historical clock, sending nothing, and list the incidents that would have
    opened (with --against, the difference from a second config)."""
    import sys

    from tqdm import tqdm

    from listener.config.model import load_config_file
    from listener.tools.backtest import diff, run_backtest
    now = datetime.now(UTC)
    start = _moment(since, "--since", now)
    end = _moment(until, "--until", now) if until else now
    if start >= end:
        raise click.BadParameter(f"{since!r} is not before {until or 'now'}",
                                 param_hint="--since")
    engine = obj.engine()
    configs = [("config", obj.config_path, obj.config)]
    if against_path is not None:
        configs.append(("against", against_path, load_config_file(against_path)))
    results = {}
    for name, path, cfg in configs:
        with tqdm(desc=f"backtest {path.name}", unit="bucket", file=sys.stderr,
                  leave=False) as bar:
            def progress(done: int, total: int, bar=bar) -> None:
                bar.total = total
                bar.update(done - bar.n)
            results[name] = run_backtest(engine, config=cfg, since=start, until=end,
                                         progress=progress)
    if as_json:
        out = {name: r.as_dict() for name, r in results.items()}
        if against_path is not None:
            out["diff"] = diff(results["config"], results["against"])
        click.echo(json.dumps(out, ensure_ascii=False))
        return
    for name, path, _ in configs:
        click.echo(backtest_report(path, results[name]))
    if against_path is not None:
        click.echo(diff_report(diff(results["config"], results["against"]), obj.config_path,
                               against_path))


def _moment(value: str, what: str, now: datetime) -> datetime:
    from listener.config.types import parse_duration
    try:
        return now - parse_duration(value)
    except ValueError:
        return _time(value, what)


def backtest_report(path: Path, r) -> str:
    lines = [f"{path}: {r.since:%Y-%m-%d %H:%M} to {r.until:%Y-%m-%d %H:%M} UTC, "
             f"{r.mentions - r.unmatched} of {r.mentions} stored mentions match its brands, "
             f"{r.steps} detection runs; nothing was sent"]
    if r.missing_topics:
        lines.append(f"  no stored labels for topic(s) {', '.join(r.missing_topics)}: "
                     f"classify again with this config to test them")
    if not r.incidents:
        lines.append("  no incident would have opened")
    for i in r.incidents:
        end = f"resolved {i.resolved_at:%a %H:%M}" if i.resolved_at else "still open"
        lines.append(f"  {i.opened_at:%Y-%m-%d %H:%M} UTC  SEV {i.level} (peak {i.peak_level})  "
                     f"{i.title} [{i.rule}]  {end}; would send: "
                     f"{', '.join(i.messages) or 'nothing'}")
        lines.append(f"      {i.reason}")
    return "\n".join(lines)


def diff_report(d: dict, path: Path, against: Path) -> str:
    lines = [f"difference ({path} -> {against}):"]
    for x in d["only_in_config"]:
        lines.append(f"  - {x['opened_at'][:16]}  SEV {x['level']}  {x['title']} [{x['rule']}]"
                     f"  only with {path.name}")
    for x in d["only_in_against"]:
        lines.append(f"  + {x['opened_at'][:16]}  SEV {x['level']}  {x['title']} [{x['rule']}]"
                     f"  only with {against.name}")
    for c in d["changed"]:
        lines.append(f"  ~ {c['key']}: opens {c['opened_at'][0][:16]} -> {c['opened_at'][1][:16]}"
                     f", peak SEV {c['peak_level'][0]} -> {c['peak_level'][1]}")
    if len(lines) == 1:
        lines.append("  none: the same incidents at the same times and severities")
    return "\n".join(lines)
