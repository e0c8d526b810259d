"""Set a trained model's output gate and fill (ModelConfig keep_clean, matte_*, fill).

None of them adds or drops weights, so the same trained weights can be shipped with the
gate on, and its hysteresis seed, dead zone and fill mode chosen on the validation sets
(seeds 5000+ and 6000+, see MODEL_CARD.md). Writes atomically; never overwrites its input.

Usage: python scripts/calibrate_gate.py IN.safetensors OUT.safetensors [--keep-clean on|off]
       [--matte-seed 0.95] [--matte-ramp 0.1 0.3] [--fill select|spatial|gated]
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from haineifrdm.model import HaineiFRDM, load_model, save_model
from haineifrdm.model.denoiser import FILL_MODES
from haineifrdm.model.weights import CONFIG_KEY, read_metadata


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src", type=Path)
    ap.add_argument("dst", type=Path)
    ap.add_argument("--keep-clean", choices=("on", "off"))
    ap.add_argument("--matte-seed", type=float)
    ap.add_argument("--matte-ramp", type=float, nargs=2, metavar=("LO", "HI"))
    ap.add_argument("--fill", choices=FILL_MODES)
    args = ap.parse_args()
    if args.src.resolve() == args.dst.resolve():
        ap.error("OUT must differ from IN (the input is never overwritten)")
    if args.matte_seed is not None and not 0.0 < args.matte_seed < 1.0:
        ap.error("--matte-seed is a probability in (0, 1)")
    model = load_model(args.src)
    changes: dict[str, object] = {}
    if args.keep_clean:
        changes["keep_clean"] = args.keep_clean == "on"
    if args.matte_seed is not None:
        changes["matte_seed"] = args.matte_seed
    if args.matte_ramp is not None:
        changes["matte_ramp"] = tuple(args.matte_ramp)
    if args.fill:
        changes["fill"] = args.fill
    try:  # the network checks its own calibration (e.g. the ramp's order and range)
        out = HaineiFRDM(replace(model.config, **changes))  # type: ignore[arg-type]
    except ValueError as e:
        ap.error(str(e))
    out.load_state_dict(model.state_dict())
    meta = {k: v for k, v in read_metadata(args.src).items() if k != CONFIG_KEY}
    save_model(out, args.dst, meta)
    print(f"{args.dst}: {out.config}")


if __name__ == "__main__":
    main()
