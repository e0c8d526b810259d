#!/usr/bin/env bash
# Train on a lent CUDA machine for a fixed time from a self-contained material
# folder (see make_training_material.py), writing the checkpoint to OUT.
#   scripts/train_gpu.sh MATERIAL_DIR OUT_DIR MINUTES
set -euo pipefail
material=$1 out=$2 minutes=$3
cfg=$(mktemp --suffix=.toml)
sed "s#runs/pack-train#$out/pack#" configs/small-gpu.toml > "$cfg"
haineifrdm train --config "$cfg" --out "$out" --minutes "$minutes" --device cuda \
  --make-pack 400 --damage-templates "$material/film-damage"
