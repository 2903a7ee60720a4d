"""`palisade`: the auditor's command line. Each command family registers itself from its
own module; this one assembles the parser and runs the chosen command."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from palisade.auditor.cli import (
    advisories,
    alerts,
    api,
    fleet,
    instances,
    keypairs,
    server,
    sync,
    tokens,
)
from palisade.auditor.server.data_dir import DataDir
from palisade.shared import closed_pipe


def _data_dir(args) -> DataDir:
    return DataDir(Path(args.data_dir or os.environ.get("PALISADE_DATA_DIR") or "palisade-data"))


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="palisade", description="The Palisade auditor.")
    p.add_argument(
        "--data-dir",
        help="the auditor's data dir (default $PALISADE_DATA_DIR, else ./palisade-data)",
    )
    p.add_argument("-v", "--verbose", action="store_true")
    sub = p.add_subparsers(dest="command", required=True)
    # in this order in `palisade --help`
    server.add_serve_command(sub, _data_dir)
    tokens.add_commands(sub, _data_dir)
    instances.add_commands(sub, _data_dir)
    api.add_commands(sub, _data_dir)
    server.add_local_stack_commands(sub, _data_dir)
    keypairs.add_commands(sub, _data_dir)
    alerts.add_commands(sub, _data_dir)
    fleet.add_commands(sub, _data_dir)
    advisories.add_commands(sub, _data_dir)
    sync.add_commands(sub, _data_dir)
    return p


def main(argv: list[str] | None = None) -> int:
    return closed_pipe.run(lambda: _main(argv))


def _main(argv: list[str] | None) -> int:
    args = build_parser().parse_args(argv)
    # The data dir holds the CA key, the store (AccessKey secrets) and credentials:
    # nothing the auditor creates is readable by other users.
    os.umask(0o077)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
