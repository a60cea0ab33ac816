"""Make your files importable: DLGRADER_IMPL_DIR if set, else the folder above public_tests/."""

import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
IMPL_DIR = Path(os.environ.get("DLGRADER_IMPL_DIR") or HERE.parent)
sys.path.insert(0, str(HERE))  # linspace_cases.py, shared by the tests
sys.path.insert(0, str(IMPL_DIR))  # optim.py, schedule.py, minibatch.py
