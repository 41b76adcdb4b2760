import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

from listener.sources.contract import SourceContext
from listener.sources.replay import ReplaySettings, ReplaySource

T0 = datetime(2026, 10, 30, 9, 0, tzinfo=UTC)


def line(i: int, minutes: int, **extra) -> str:
    obj = {"source": "twitter", "external_id": str(i),
           "created_at": (T0 + timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z"),
           "author": f"user{i}", "author_followers": 10 * i, "url": f"https://x.com/u/status/{i}",
           "lang": "en", "text": f"lumitoys post {i}", **extra}
    return json.dumps(obj)


def source(path: Path, now):
    return ReplaySource(SourceContext(ReplaySettings(path=str(path)), base_dir=path.parent,
                                      clock=lambda: now[0]))


def test_replays_only_what_the_clock_has_reached_and_resumes_from_the_cursor(tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text("\n".join(line(i, 10 * i) for i in range(5)) + "\n")
    now = [T0 + timedelta(minutes=15)]
    src = source(f, now)
    b1 = src.fetch(None)
    assert [m.external_id for m in b1.mentions] == ["0", "1"]
    assert b1.cursor["line"] == 2 and not b1.exhausted
    assert src.fetch(b1.cursor).mentions == []          # nothing new yet
    now[0] = T0 + timedelta(hours=1)
    b2 = src.fetch(b1.cursor)
    assert [m.external_id for m in b2.mentions] == ["2", "3", "4"]
    assert b2.exhausted
    assert b2.mentions[0].author_reach == 20 and b2.mentions[0].created_at.tzinfo is not None


def test_malformed_lines_are_skipped_counted_and_logged_with_their_line_number(tmp_path, caplog):
    f = tmp_path / "s.jsonl"
    f.write_text("\n".join([
        line(0, 0),
        "{not json",
        json.dumps({"external_id": "x", "text": "no time"}),
        line(3, 1, created_at="yesterday"),
        "",
        line(4, 2),
    ]) + "\n")
    now = [T0 + timedelta(days=1)]
    with caplog.at_level(logging.WARNING):
        batch = source(f, now).fetch(None)
    assert [m.external_id for m in batch.mentions] == ["0", "4"]
    assert batch.malformed == 3
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "s.jsonl:2: skipped malformed line" in logged
    assert "s.jsonl:3: skipped malformed line: missing created_at" in logged
    assert "s.jsonl:4: skipped malformed line" in logged


def test_a_line_still_being_written_waits_for_its_newline(tmp_path):
    f = tmp_path / "s.jsonl"
    f.write_text(line(0, 0) + "\n" + line(1, 1)[:20])
    now = [T0 + timedelta(days=1)]
    src = source(f, now)
    b = src.fetch(None)
    assert [m.external_id for m in b.mentions] == ["0"]
    with f.open("w") as out:
        out.write(line(0, 0) + "\n" + line(1, 1) + "\n")
    assert [m.external_id for m in src.fetch(b.cursor).mentions] == ["1"]


def test_the_builtin_demo_stream_tells_the_flashlight_story():
    src = ReplaySource(SourceContext(ReplaySettings()))
    first, last = src.time_range()
    assert last - first > timedelta(days=1, hours=20)
    batch = src._read({"offset": 0, "line": 0}, until=None)
    assert batch.malformed == 0 and len(batch.mentions) >= 900
    burned = [m for m in batch.mentions if "burned her hand" in m.text]
    assert burned and burned[0].created_at.date().isoformat() == "2026-10-30"
    assert len({m.source for m in batch.mentions}) >= 5


def test_a_csv_is_replayed_in_time_order_with_its_columns_mapped(tmp_path):
    f = tmp_path / "tweets.csv"
    f.write_text('tweet_id,tweet_created,text\n'
                 '2,2/24/2015 11:35,"second\nwith a newline"\n'
                 '1,2/24/2015 11:30,first\n'
                 '3,not a time,broken\n'
                 '4,2/24/2015 12:00,later\n')
    settings = ReplaySettings(path=str(f), platform="twitter", time_format="%m/%d/%Y %H:%M",
                              columns={"external_id": "tweet_id", "created_at": "tweet_created",
                                       "author": "tweet_id"})
    now = [datetime(2015, 2, 24, 11, 40, tzinfo=UTC)]
    src = ReplaySource(SourceContext(settings, base_dir=tmp_path, clock=lambda: now[0]))
    b1 = src.fetch(None)
    assert [(m.external_id, m.text, m.source, m.author) for m in b1.mentions] == [
        ("1", "first", "twitter", "1"), ("2", "second\nwith a newline", "twitter", "2")]
    assert b1.malformed == 1 and not b1.exhausted
    now[0] = datetime(2015, 2, 25, tzinfo=UTC)
    b2 = src.fetch(b1.cursor)
    assert [m.external_id for m in b2.mentions] == ["4"] and b2.exhausted
