#!/usr/bin/env bash
# One prepared run on a lent CUDA machine (bare image: its own python3 with PyTorch,
# no network, only this working tree). In order:
#   1. build the C++ engine module in place (no pip, no downloads);
#   2. benchmarks/gpu_restore.py: 2K/4K restores on the GPU with the shipped model
#      (alone on the machine, so its timings are clean), and benchmarks/pass_speed.py:
#      the passes after the network on the machine's CPU cores;
#   3. render the training pack on the CPU cores from MATERIAL (see
#      scripts/make_training_material.py);
#   4. train `small` (CONFIG, default configs/small-gpu.toml) for MINUTES, checkpoints in
#      OUT/train; INIT=weights fine-tunes them (e.g. the shipped default's); MINUTES=0
#      skips 3 and 4;
#   5. with BLOTCH_MINUTES: make the blotch network's material on the CPU cores and train
#      it on the GPU (scripts/train_blotch.py; BLOTCH_INIT=weights goes on from them),
#      attached to BLOTCH_MODEL (default: the shipped model) as OUT/blotch.safetensors,
#      then evaluated on the still validation sets (seeds 5000, 6000; OUT/still-*), as
#      is the model without it (the material's templates make these sets differ a little
#      from the dev machine's).
# Everything it measures lands in OUT.
#   [CONFIG=...] [INIT=...] [SKIP_BENCH=1] [BLOTCH_MINUTES=N [BLOTCH_INIT=...]
#   [BLOTCH_MODEL=...] [BLOTCH_CLIPS=1200] [BLOTCH_HELD_OUT=150]]
#   scripts/gpu_session.sh MATERIAL OUT MINUTES [CLIPS]
set -uo pipefail
material=$1 out=$2 minutes=$3 clips=${4:-480}
py=${PYTHON:-python3}
export PYTHONUNBUFFERED=1
stamp() { echo "[$(date +%T)] $*"; }

stamp "machine"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
$py -c "import torch, sys; print('torch', torch.__version__, 'python', sys.version.split()[0])"

stamp "build engine"
build=/tmp/haineifrdm-build; rm -rf $build
cmake -S . -B $build -DSKBUILD=ON -DCMAKE_BUILD_TYPE=Release \
  -DPython_EXECUTABLE="$(command -v "$py")" -Dpybind11_DIR="$($py -m pybind11 --cmakedir)" \
  > "$out/build.log" 2>&1 && cmake --build $build --target _engine -j "$(nproc)" \
  >> "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
cp $build/_engine*.so plugin/haineifrdm/ && rm "$out/build.log"
[ -e plugin/haineifrdm/exporter ] || ln -s "$PWD/exporter" plugin/haineifrdm/exporter
export PYTHONPATH=$PWD/plugin
cli="$py -m haineifrdm.cli.main"

if [ -z "${SKIP_BENCH:-}" ]; then
  stamp "GPU benchmark"
  timeout 90 $py benchmarks/gpu_restore.py --repeats 2 --json "$out/gpu_bench.json" 2>&1 \
    | grep -v '^{' 
  timeout 60 $py benchmarks/pass_speed.py > "$out/pass_speed.txt" 2>&1; tail -1 "$out/pass_speed.txt"
fi

rc=0
if [ "$minutes" != 0 ]; then
  stamp "pack ($clips clips)"
  cfg=/tmp/haineifrdm-gpu.toml
  sed "s#runs/pack-train#/tmp/haineifrdm-pack#" "${CONFIG:-configs/small-gpu.toml}" > $cfg
  $cli train --config $cfg --out "$out/train" --make-pack "$clips" --pack-only \
    --pack-workers "$(nproc)" --damage-templates "$material/film-damage" \
    --photos "$material/photos" > /dev/null || exit 1

  mkdir -p "$out/train"
  stamp "train $minutes min${INIT:+ from $INIT}"
  $cli train --config $cfg --out "$out/train" --minutes "$minutes" ${INIT:+--init "$INIT"} 2> /tmp/haineifrdm-progress.log
  rc=$?
  rm -f "$out/train/state.pt.tmp"
  tail -c 400 /tmp/haineifrdm-progress.log; echo
  tail -2 "$out/train/metrics.jsonl"
  stamp "done (train rc $rc)"
fi

if [ -n "${BLOTCH_MINUTES:-}" ]; then
  stamp "blotch network: material + $BLOTCH_MINUTES min${BLOTCH_INIT:+ from $BLOTCH_INIT}"
  $py scripts/train_blotch.py "${BLOTCH_MODEL:-plugin/haineifrdm/weights/default.safetensors}" \
    "$out/blotch.safetensors" --material /tmp/haineifrdm-blotch --workers "$(nproc)" \
    --damage-templates "$material/film-damage" --photos "$material/photos" \
    --minutes "$BLOTCH_MINUTES" --clips "${BLOTCH_CLIPS:-1200}" \
    --held-out "${BLOTCH_HELD_OUT:-150}" \
    ${BLOTCH_INIT:+--init "$BLOTCH_INIT"} 2>&1 | grep -v Warning | tail -25
  brc=${PIPESTATUS[0]}
  stamp "done (blotch rc $brc)"
  if [ "$brc" = 0 ]; then  # the still validation sets, where the pass runs (1 step),
    base="${BLOTCH_MODEL:-default}"  # against the model without the blotch network
    for seed in 5000 6000; do
      for m in base blotch; do
        model=$base; [ $m = blotch ] && model="$out/blotch.safetensors"
        stamp "validate $m: still scenes, seed $seed"
        timeout 240 $cli eval --model "$model" --scenes still --steps 1 --seed $seed \
          --damage-templates "$material/film-damage" --out "$out/still-$seed-$m" \
          > /dev/null 2>&1
        $py scripts/summarise_eval.py "$out/still-$seed-$m/report.json" | grep steps1
      done
    done
  fi
  [ "$rc" = 0 ] && rc=$brc
fi
exit $rc
