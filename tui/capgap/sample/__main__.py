"""Command line: ``python -m capgap.sample [--out DIR] [--seed N]`` writes the sample session."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

#: The repository's sample_data folder (beside the tui package in a source checkout).
DEFAULT_OUT = Path(__file__).resolve().parents[3] / "sample_data"
#: The generator's one dependency beyond capgap's own: numpy, brought by the `sample` extra.
NEEDS_NUMPY = "capgap: the sample generator needs numpy: pip install 'capgap[sample]'"


def main(argv: list[str] | None = None) -> int:
    """Generate the sample session into --out and print what was written."""
    parser = argparse.ArgumentParser(
        prog="python -m capgap.sample",
        description="Generate capgap's synthetic sample session (deterministic).",
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument(
        # None: the generator's own DEFAULT_SEED, read once numpy is known to be there.
        "--seed",
        type=int,
        default=None,
        help="first seed of the deterministic search",
    )
    args = parser.parse_args(argv)
    try:
        # numpy is an extra (`capgap[sample]`), not a dependency of the monitor: without it,
        # one line that says how to get it instead of a traceback from deep in the generator.
        importlib.import_module("numpy")
    except ImportError:
        print(NEEDS_NUMPY, file=sys.stderr)
        return 2
    from capgap.market.universe import load_universe
    from capgap.sample.calibration import load_calibration
    from capgap.sample.generator import DEFAULT_SEED, generate
    from capgap.sample.output import write_session

    cal = load_calibration()
    universe = load_universe()
    seed = DEFAULT_SEED if args.seed is None else args.seed
    session = generate(seed, calibration=cal, universe=universe)
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
