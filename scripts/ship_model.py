"""Ship a trained run as the default model: weights + MODEL_CARD.md beside them.

Usage: python scripts/ship_model.py runs/small-cpu eval-report/report.json "2 CPU cores (dev)"
"""

from __future__ import annotations

import json
import platform
import shutil
import sys
from pathlib import Path

from haineifrdm.model import count_parameters, load_model
from haineifrdm.models import WEIGHTS_DIR


def main() -> None:
    run, report_path, hardware = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    model = load_model(run / "last.safetensors")
    cfg = json.loads((run / "config.json").read_text())
    log = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    report = json.loads(report_path.read_text())
    WEIGHTS_DIR.mkdir(parents=True, exist_ok=True)
    dst = WEIGHTS_DIR / "default.safetensors"
    shutil.copy2(run / "last.safetensors", dst)
    dst.chmod(0o644)
    from haineifrdm.model.weights import read_metadata

    step = int(read_metadata(run / "last.safetensors").get("step", log[-1]["step"]))
    at_step = [r for r in log if r["step"] <= step] or log
    minutes = at_step[-1]["elapsed_s"] / 60
    o = report["overall"]
    lines = [
        "# HaineiFRDM default model (`--model default`)", "",
        f"- Preset `{model.config.preset}`, {count_parameters(model) / 1e6:.2f} M parameters, "
        f"{dst.stat().st_size / 2**20:.1f} MiB safetensors (EMA weights).",
        f"- Trained by `haineifrdm train --config configs/small-cpu.toml --minutes "
        f"{round(minutes)}` for {step} steps (batch {cfg['batch']}, "
        f"{cfg['patch']}x{cfg['patch']} patches, "
        f"lr {cfg['lr']}, defect weight {cfg['defect_weight']}) in {minutes:.0f} min "
        f"on {hardware} ({platform.processor() or platform.machine()}).",
        "- Data: a pack of 160 synthetic fast-motion clips (7 frames, 256x352) rendered from "
        "scikit-image photographs and procedural textures, damaged with the project's "
        "synthesiser using the real film-damage overlays (FilmDamageSimulator, MIT) for "
        "specks; no footage or weights were downloaded.",
        f"- Training loss at the shipped step {at_step[-1]['loss']:.4f} "
        f"(first logged {log[0]['loss']:.4f}).", "",
        "## Held-out evaluation (`haineifrdm eval`, other photographs and seeds)", "",
        "| method | PSNR | PSNR in defects | PSNR outside | SSIM | grain ratio |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for m, v in o.items():
        lines.append(f"| {m} | {v['psnr']:.2f} | {v['psnr_in']:.2f} | {v['psnr_out']:.2f} | "
                     f"{v['ssim']:.3f} | {v['grain_ratio']:.2f} |")
    lines += ["", "Per defect class (4 steps vs input):", "",
              "| class | input PSNR | restored PSNR | input in defects | restored in defects |",
              "| --- | --- | --- | --- | --- |"]
    for cls, by in report["classes"].items():
        a, b = by["input"], by.get("steps4", by[list(by)[-1]])
        lines.append(f"| {cls} | {a['psnr']:.2f} | {b['psnr']:.2f} | {a['psnr_in']:.2f} | "
                     f"{b['psnr_in']:.2f} |")
    lines += ["", "Targets from the training issue (4 steps):", ""]
    for k, v in report.get("targets", {}).items():
        lines.append(f"- {k}: {v['value']:.3f} (target {v['target']})")
    (WEIGHTS_DIR / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")
    print(f"shipped {dst} and {WEIGHTS_DIR / 'MODEL_CARD.md'}")


if __name__ == "__main__":
    main()
