"""NAB-format evaluation: scoring on hand-made windows, replay without look-ahead, the command."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from click.testing import CliRunner

from alerts.detectors import SpikeDetector
from alerts.errors import NabDataError
from alerts.nab import (
    NabSeries,
    load_corpus,
    nab_raw_score,
    scaled_sigmoid,
    score_series,
    stream_alerts,
)
from alerts.series import CountSeries
from listener.cli.main import main
from tests.conftest import needs_shared

T0 = datetime(2015, 3, 1, tzinfo=UTC)
STEP = timedelta(minutes=5)
PER_DAY = 288
TOTAL_KEYS = {"windows", "found", "false_alerts", "recall", "precision",
              "false_alerts_per_series_day", "median_hit_offset_hours", "nab_standard"}


def at(i: int) -> datetime:
    return T0 + STEP * i


def tiny(labels=(45, 75)) -> NabSeries:
    """100 rows; windows on rows 40-49 and 70-79; NAB's probation is the first 15 rows."""
    return NabSeries("tiny", T0, STEP, np.zeros(100, dtype=np.int64),
                     windows=((at(40), at(49)), (at(70), at(79))),
                     labels=tuple(at(i) for i in labels))


class TestScoring:
    def test_a_hit_a_miss_and_false_alerts_counted_simply(self):
        score = score_series(tiny(), [42, 60, 90])
        assert (score.windows, score.found, score.false_alerts, score.alerts) == (2, 1, 2, 3)
        assert score.recall == 0.5
        assert score.precision == pytest.approx(1 / 3)
        assert score.days == pytest.approx(100 * 5 / 1440)
        assert score.false_alerts_per_series_day == pytest.approx(5.76)
        assert score.hit_offsets_hours == (-0.25,)       # 15 minutes before the label
        assert score.median_hit_offset_hours == 0.25

    def test_nab_standard_profile_of_a_hit_a_miss_and_two_false_alerts(self):
        # hit at relative position -(49 - 42 + 1) / 10 = -0.8: sigma(-0.8) / sigma(-1)
        # = 0.964028 / 0.986614; the miss -1; each false alert 11 rows past a 10-row window:
        # 0.11 * sigma(11 / 9) = -0.109513
        score = score_series(tiny(), [42, 60, 90])
        assert score.nab_raw == pytest.approx(0.977107 - 1 - 2 * 0.109513, abs=1e-6)
        assert score.nab_standard == pytest.approx(100 * (score.nab_raw + 2) / 4)
        assert score.nab_standard == pytest.approx(43.952, abs=1e-3)

    def test_the_perfect_detector_scores_100_and_the_null_detector_0(self):
        assert score_series(tiny(), [40, 70]).nab_standard == pytest.approx(100.0)
        assert score_series(tiny(), []).nab_standard == pytest.approx(0.0)

    def test_only_the_first_detection_in_a_window_counts(self):
        assert score_series(tiny(), [40, 41, 48, 70]).nab_standard == pytest.approx(100.0)

    def test_a_false_alert_before_any_window_costs_a_fp_and_probation_is_ignored(self):
        raw, windows = nab_raw_score(100, [(40, 49), (70, 79)], [20])
        assert (raw, windows) == (pytest.approx(-2 - 0.11), 2)
        raw, _ = nab_raw_score(100, [(40, 49), (70, 79)], [10])   # row 10 < 15: probation
        assert raw == pytest.approx(-2)
        assert score_series(tiny(), [10]).false_alerts == 1        # counted simply, all count

    def test_scaled_sigmoid_follows_nab(self):
        assert scaled_sigmoid(-1) == pytest.approx(0.986614, abs=1e-6)
        assert scaled_sigmoid(-0.5) == pytest.approx(0.848284, abs=1e-6)
        assert scaled_sigmoid(0) == 0
        assert scaled_sigmoid(1) == pytest.approx(-0.986614, abs=1e-6)
        assert scaled_sigmoid(3) == -1

    def test_a_hit_is_measured_from_the_nearest_label_in_its_window(self):
        series = tiny(labels=(41, 48, 75))
        assert score_series(series, [47]).hit_offsets_hours == (pytest.approx(-1 / 12),)
        no_labels = NabSeries("x", T0, STEP, np.zeros(100, dtype=np.int64),
                              windows=((at(40), at(50)),))
        assert score_series(no_labels, [44]).hit_offsets_hours == (pytest.approx(-1 / 12),)


class TestLoading:
    def test_folder_in_nab_format(self, tmp_path):
        rows = ["timestamp,value", "2015-03-01 00:00:00,3", "2015-03-01 00:05:00,4",
                "2015-03-01 00:15:00,7"]                      # 00:10 is missing: a zero
        (tmp_path / "Twitter_volume_X.csv").write_text("\n".join(rows) + "\n")
        (tmp_path / "windows.json").write_text(json.dumps({
            "realTweets/Twitter_volume_X.csv": [["2015-03-01 00:05:00.000000",
                                                 "2015-03-01 00:10:00.000000"]]}))
        (tmp_path / "labels.json").write_text(json.dumps({
            "realTweets/Twitter_volume_X.csv": ["2015-03-01 00:05:00"]}))
        (series,) = load_corpus(tmp_path)
        assert series.name == "Twitter_volume_X" and series.step == STEP
        assert series.counts.tolist() == [3, 4, 0, 7]
        assert [(lo, hi) for lo, hi, _ in series.window_rows()] == [(1, 2)]
        assert series.labels == (at(1),)

    def test_a_series_without_windows_is_named(self, tmp_path):
        (tmp_path / "a.csv").write_text("timestamp,value\n2015-03-01 00:00:00,1\n"
                                        "2015-03-01 00:05:00,1\n")
        (tmp_path / "windows.json").write_text("{}")
        with pytest.raises(NabDataError, match=r"windows.json has no entry for a.csv"):
            load_corpus(tmp_path)


def bursty_series(days: int = 4, seed: int = 7) -> np.ndarray:
    """A daily rhythm with over-dispersed noise, and a burst on the last day."""
    rng = np.random.default_rng(seed)
    t = np.arange(days * PER_DAY)
    rate = 6 + 4 * np.sin(2 * np.pi * t / PER_DAY)
    counts = rng.poisson(rng.gamma(5.0, rate / 5.0))
    burst = (days - 1) * PER_DAY + 150
    counts[burst:burst + 8] += [40, 90, 160, 150, 120, 90, 60, 40]
    return counts


class TestNoLookAhead:
    det = SpikeDetector(window=timedelta(hours=1))

    def test_later_buckets_do_not_change_a_decision(self):
        counts = bursty_series().tolist()
        end = T0 + STEP * len(counts)
        full = CountSeries(end, STEP, tuple(counts))
        fired = 0
        for i in range(3 * PER_DAY + 100, 3 * PER_DAY + 200):
            now = T0 + STEP * (i + 1)
            seen = CountSeries(now, STEP, tuple(counts[:i + 1]))
            with_future = self.det.detect(full, now)
            assert with_future == self.det.detect(seen, now), i
            fired += with_future is not None
        assert fired > 0                                    # the burst is there to be seen

    def test_a_replay_cut_short_gives_the_same_alerts_up_to_the_cut(self):
        counts = bursty_series()
        series = NabSeries("b", T0, STEP, counts)
        alerts = stream_alerts(series, self.det)
        assert alerts, "the burst should alert"
        cut = alerts[0] + 3
        short = NabSeries("b", T0, STEP, counts[:cut])
        assert stream_alerts(short, self.det) == [i for i in alerts if i < cut]


def test_a_continuing_anomaly_is_one_alert():
    counts = bursty_series()
    start = 3 * PER_DAY + 150
    counts[start:start + 36] += 120                         # three hours of a story
    signals = []
    alerts = stream_alerts(NabSeries("b", T0, STEP, counts), SpikeDetector(timedelta(hours=1)),
                           signals=signals)
    assert len(signals) > 20                                # it keeps signalling ...
    assert alerts == [signals[0][0]]                        # ... but it is one incident


def tiny_corpus(folder):
    counts = bursty_series(days=3)
    lines = ["timestamp,value"] + [f"{at(i):%Y-%m-%d %H:%M:%S},{c}" for i, c in enumerate(counts)]
    (folder / "Twitter_volume_B.csv").write_text("\n".join(lines) + "\n")
    burst = 2 * PER_DAY + 150
    (folder / "windows.json").write_text(json.dumps({"realTweets/Twitter_volume_B.csv": [
        [f"{at(burst - 60):%Y-%m-%d %H:%M:%S}.000000",
         f"{at(burst + 60):%Y-%m-%d %H:%M:%S}.000000"]]}))
    (folder / "labels.json").write_text(json.dumps({
        "realTweets/Twitter_volume_B.csv": [f"{at(burst):%Y-%m-%d %H:%M:%S}"]}))


class TestCommand:
    def test_table_and_plots(self, tmp_path):
        tiny_corpus(tmp_path)
        res = CliRunner().invoke(main, ["eval", "spikes", "--data", str(tmp_path),
                                        "--plot", str(tmp_path / "plots")])
        assert res.exit_code == 0, res.output
        lines = res.stdout.splitlines()
        assert lines[0].split()[:4] == ["series", "windows", "found", "false"]
        assert lines[1].split()[:4] == ["Twitter_volume_B", "1", "1", "0"]
        assert lines[3].split()[:4] == ["total", "1", "1", "0"]
        assert (tmp_path / "plots" / "Twitter_volume_B.png").stat().st_size > 10_000
        assert "replaying" in res.stderr                    # the progress bar, on stderr only

    def test_a_folder_that_is_not_nab_is_a_clear_error(self, tmp_path):
        res = CliRunner().invoke(main, ["eval", "spikes", "--data", str(tmp_path)])
        assert res.exit_code == 1
        assert "windows.json: missing" in res.stderr

    def test_on_the_shared_nab_series_json_shape_and_targets(self):
        data = needs_shared("nab")
        res = CliRunner().invoke(main, ["eval", "spikes", "--data", str(data), "--json"])
        assert res.exit_code == 0, res.output
        report = json.loads(res.stdout)                     # exactly one JSON object
        assert set(report) == {"series", "total"}
        assert set(report["series"]) == {p.stem for p in data.glob("*.csv")}
        assert set(report["total"]) == TOTAL_KEYS
        assert all(TOTAL_KEYS <= set(s) for s in report["series"].values())
        total = report["total"]
        assert total["windows"] == sum(s["windows"] for s in report["series"].values())
        assert total["recall"] >= 0.9
        assert total["false_alerts_per_series_day"] <= 0.1
        assert total["median_hit_offset_hours"] <= 2
        assert not math.isnan(total["nab_standard"])
