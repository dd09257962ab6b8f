"""`python -m bench NAME [--quick]`: each benchmark prints one JSON object on stdout."""

from __future__ import annotations

import argparse
import importlib
import json
import sys

from bot.core.logging import setup_logging

BENCHMARKS = ("engine", "models", "pipeline", "quality", "raid", "scale", "soak")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("name", choices=(*BENCHMARKS, "all"))
    parser.add_argument("--quick", action="store_true", help="a smaller size that runs faster")
    arguments = parser.parse_args(argv)
    setup_logging(None, level="WARNING")
    names = BENCHMARKS if arguments.name == "all" else (arguments.name,)
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        result = module.run(quick=arguments.quick)
        print(json.dumps({"bench": name, **result}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
