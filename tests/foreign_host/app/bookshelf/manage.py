"""``python -m bookshelf.manage add-library NAME PATH``: the host's admin command."""

from __future__ import annotations

import argparse
from pathlib import Path

from bookshelf.db import add_library


def main() -> None:
    """Parse the command line and run it."""
    parser = argparse.ArgumentParser(prog="bookshelf.manage")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-library")
    add.add_argument("name")
    add.add_argument("path")
    args = parser.parse_args()
    print(add_library(args.name, str(Path(args.path).resolve())))


if __name__ == "__main__":
    main()
