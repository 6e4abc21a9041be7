"""The data directory of `statsgraph run` (DESIGN.md, "Data directory"):

    DIR/whisper/...     the whisper files
    DIR/graphs.db       saved graphs
    DIR/conf/           the configuration in force, copied from the defaults on first run
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from carbon_store.service import PACKAGED_CONF as STORAGE_RULES

DEFAULT_CONFIG = Path(__file__).resolve().parent / "conf" / "statsgraph.conf"
CONFIG_NAME = "statsgraph.conf"
RULE_FILES = ("storage-schemas.conf", "storage-aggregation.conf")


@dataclass(frozen=True)
class DataDir:
    root: Path

    @property
    def whisper(self) -> Path:
        return self.root / "whisper"

    @property
    def conf(self) -> Path:
        return self.root / "conf"

    @property
    def config_file(self) -> Path:
        return self.conf / CONFIG_NAME

    @property
    def graphs_db(self) -> Path:
        return self.root / "graphs.db"

    def initialize(self) -> list[Path]:
        """Create what is missing; files already there (the operator's) stay as they
        are. Returns what was created."""
        created: list[Path] = []
        for folder in (self.root, self.whisper, self.conf):
            if not folder.is_dir():
                folder.mkdir(parents=True, exist_ok=True)
                created.append(folder)
        sources = [(DEFAULT_CONFIG, self.config_file)]
        sources += [(STORAGE_RULES / name, self.conf / name) for name in RULE_FILES]
        for source, target in sources:
            if not target.exists():
                shutil.copyfile(source, target)
                created.append(target)
        return created
