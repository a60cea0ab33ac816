"""Put the implementation folder on sys.path so the tests can `import rnn_layers`.

By default that is the folder above public_tests/ (where your rnn_layers.py and
sequence_model.py live); the course staff point DLGRADER_IMPL_DIR at other folders.
"""

import os
import sys
from pathlib import Path

IMPL_DIR = Path(os.environ.get("DLGRADER_IMPL_DIR") or Path(__file__).resolve().parent.parent)
sys.path.insert(0, str(IMPL_DIR))
