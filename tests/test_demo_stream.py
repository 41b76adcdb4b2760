"""The shipped demo stream (listener/data/demo_stream.jsonl) is exactly what its generator,
scripts/make_demo_stream.py, writes: the generator is deterministic, and the package data was not
edited by hand."""

import subprocess
import sys

from tests.conftest import ROOT


def test_the_generator_writes_the_shipped_stream_byte_for_byte(tmp_path):
    out = tmp_path / "demo_stream.jsonl"
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_demo_stream.py"),
                           "--out", str(out)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "checks passed" in done.stdout
    assert out.read_bytes() == (ROOT / "listener" / "data" / "demo_stream.jsonl").read_bytes()
