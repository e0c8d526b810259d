"""Print a `haineifrdm eval` report's overall whole / inside / outside PSNR per method.

Usage: python scripts/summarise_eval.py REPORT.json
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit(__doc__.strip().splitlines()[-1])
    with open(sys.argv[1]) as f:
        overall = json.load(f)["overall"]
    for method, m in overall.items():
        print(f"{sys.argv[1]}: {method:8s} whole / inside / outside "
              f"{m['psnr']:.2f} / {m['psnr_in']:.2f} / {m['psnr_out']:.2f}")


if __name__ == "__main__":
    main()
