"""Command-line programs piped into `head` or `less`: when the reader goes away, stop quietly.

Python raises BrokenPipeError on the next write to a closed stdout (and again when the
interpreter flushes it at exit, printing "Exception ignored ..."). The Python documentation's
recipe (library/signal, "Note on SIGPIPE"): point stdout at /dev/null and exit with the status a
shell reports for a process killed by SIGPIPE.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

EXIT_CLOSED_PIPE = 128 + 13  # what a shell shows for SIGPIPE


def run(main: Callable[[], int]) -> int:
    """`main()`'s exit status, or EXIT_CLOSED_PIPE without a traceback when stdout's reader
    closed the pipe."""
    try:
        status = main()
        sys.stdout.flush()  # a late failure belongs here, not to the interpreter's exit
        return status
    except BrokenPipeError:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return EXIT_CLOSED_PIPE
