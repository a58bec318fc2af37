"""The fuzz tests serve the plugin's test host (tests/plugin/plugin_test_host.py)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent.parent / "plugin"))
