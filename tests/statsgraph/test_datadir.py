"""The data directory: created on first run, the operator's files kept after."""

from __future__ import annotations

from pathlib import Path

from statsgraph.datadir import DEFAULT_CONFIG, DataDir

ROOT = Path(__file__).resolve().parents[2]


def test_first_run_creates_everything(tmp_path):
    data = DataDir(tmp_path / "data")
    created = data.initialize()
    assert data.whisper.is_dir() and data.conf.is_dir()
    assert data.config_file.read_text() == DEFAULT_CONFIG.read_text()
    for name in ("storage-schemas.conf", "storage-aggregation.conf"):
        assert (data.conf / name).read_text() == (ROOT / "conf" / name).read_text()
    assert data.config_file in created and data.graphs_db == tmp_path / "data" / "graphs.db"


def test_later_runs_keep_what_is_there(tmp_path):
    data = DataDir(tmp_path)
    data.initialize()
    data.config_file.write_text("[statsd]\nflush_interval = 60\n")
    assert data.initialize() == []
    assert data.config_file.read_text() == "[statsd]\nflush_interval = 60\n"


def test_the_packaged_config_is_the_shipped_one():
    assert DEFAULT_CONFIG.read_text() == (ROOT / "conf" / "statsgraph.conf").read_text()
