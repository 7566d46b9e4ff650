#!/usr/bin/env bash
# Download, into .whl/, the wheels the GPU device machine lacks for `scripts/device_check.sh`.
#
# The device (an H200 machine with no network) has Python 3.12 with torch, torchvision, timm,
# numpy, pyarrow, pillow, safetensors, huggingface-hub and the other packages its image lists
# (/work/.library/device/KINDS.md), but not rasterio, shapely, dask/distributed or open_clip.
# These wheels travel with the working tree (`carry=[".whl"]`; 64 MiB in all with the tree).
# Pins: the versions of the project's own .venv when this was written; one version of each
# (two stop the install there). FAISS-GPU does not fit (see device_steps.py's faiss step).
#
#   bash scripts/device_wheels.sh            # repository root; PYTHON=python3, PY_VERSION=3.12
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
PY_VERSION=${PY_VERSION:-3.12}
DEST=.whl
LIMIT_MIB=56  # the rest of the 64 MiB goes to the working tree itself
WHEELS=(
  rasterio==1.4.4 affine==3.0.1 cligj==0.7.2 click-plugins==1.1.1.2
  shapely==2.2.0
  dask==2026.8.0 distributed==2026.8.0 partd==1.4.2 locket==1.0.0 tornado==6.6.1
  tblib==3.2.2 zict==3.0.0
  open_clip_torch==3.3.0 ftfy==6.3.1 wcwidth==0.9.4
)
PLATFORMS=()
for p in manylinux_2_28 manylinux_2_27 manylinux_2_17 manylinux2014 manylinux1; do
  PLATFORMS+=(--platform "${p}_x86_64")
done

mkdir -p "$DEST"
"$PYTHON" -m pip download --quiet --no-deps --only-binary=:all: --python-version "$PY_VERSION" \
  --implementation cp "${PLATFORMS[@]}" -d "$DEST" "${WHEELS[@]}"

# keep exactly the pinned wheels: a stale second version of one would stop the install
for whl in "$DEST"/*.whl; do
  name=$(basename "$whl" | cut -d- -f1 | tr '[:upper:]_.' '[:lower:]--')
  version=$(basename "$whl" | cut -d- -f2)
  keep=0
  for pin in "${WHEELS[@]}"; do
    pin_name=$(echo "${pin%%==*}" | tr '[:upper:]_.' '[:lower:]--')
    [[ $pin_name == "$name" && ${pin##*==} == "$version" ]] && keep=1
  done
  if [[ $keep == 0 ]]; then
    echo "device_wheels: removing $whl (not pinned here)"
    rm -f "$whl"
  fi
done

count=$(find "$DEST" -maxdepth 1 -type f -name '*.whl' | wc -l)
bytes=$(du -cb "$DEST"/*.whl | tail -1 | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
if [[ $count != "${#WHEELS[@]}" ]]; then
  echo "device_wheels: expected ${#WHEELS[@]} wheels in $DEST, found $count" >&2
  exit 1
fi
if (( bytes > LIMIT_MIB * 1048576 )); then
  echo "device_wheels: $DEST holds $mib MiB, over the $LIMIT_MIB MiB left for wheels" >&2
  exit 1
fi
echo "device_wheels: $count wheels, $mib MiB in $DEST (Python $PY_VERSION);" \
  'next: run(command="bash scripts/device_check.sh", carry=[".whl"], timeout_s=420)'
