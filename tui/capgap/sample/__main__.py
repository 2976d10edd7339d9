"""Command line: ``python -m capgap.sample [--out DIR] [--seed N]`` writes the sample session."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from capgap.market.universe import load_universe
from capgap.sample.calibration import load_calibration
from capgap.sample.generator import DEFAULT_SEED, generate
from capgap.sample.output import write_session

#: The repository's sample_data folder (beside the tui package in a source checkout).
DEFAULT_OUT = Path(__file__).resolve().parents[3] / "sample_data"


def main(argv: list[str] | None = None) -> int:
    """Generate the sample session into --out and print what was written."""
    parser = argparse.ArgumentParser(
        prog="python -m capgap.sample",
        description="Generate capgap's synthetic sample session (deterministic).",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        "--seed", type=int, default=DEFAULT_SEED, help="first seed of the deterministic search"
    )
    args = parser.parse_args(argv)
    cal = load_calibration()
    universe = load_universe()
    session = generate(args.seed, calibration=cal, universe=universe)
    try:
        written = write_session(session, cal, universe, args.out)
    except OSError as error:
        print(f"cannot write the sample session to {args.out}: {error}", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path} ({path.stat().st_size} bytes)")
    print(f"seed {session.seed} (searched from {session.seed_start}, {session.seeds_tried} tried)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
