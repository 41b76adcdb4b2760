"""`listener backtest`: replay the stored mentions through the alert rules on the historical
clock, sending nothing (listener/tools/backtest.py does it), and print the incidents that would
have opened.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import click

from listener.cli.context import Ctx
from listener.cli.times import option_time


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

    from listener.config import load_config_file
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
        return option_time(value, what)


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
