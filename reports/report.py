#!/usr/bin/python3
"""Entry point of `specbias report` (harness/cli/cmd_report.c runs it with /usr/bin/python3, or
$SPECBIAS_PYTHON). Usage: report.py [--specbias EXE] [--out DIR] [--history DIR] FILES..."""

import os
import sys

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from sbreport.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
