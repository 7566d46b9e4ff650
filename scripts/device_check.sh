#!/usr/bin/env bash
# The GPU device check in one command (issue 13): installs the carried wheels, runs the steps
# of scripts/device_steps.py, and always leaves $OUT/device_check.log and
# $OUT/device_check.json (also when the install, an import or a step fails).
#
#   bash scripts/device_wheels.sh        # here, once: the wheels the device lacks, into .whl/
#   run(command="bash scripts/device_check.sh", carry=[".whl"], timeout_s=420)
#   bash scripts/device_check.sh --cpu --steps env,peak    # options go to device_steps.py
#
# PYTHON (default python3) runs the steps; OUT (default ./device-check-out) gets the files.
# The wheels are installed (offline, into $DEVICE_SITE) only where the project's imports
# are missing, so the same script runs here in the project's .venv.
set -uo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
OUT=${OUT:-$PWD/device-check-out}
SITE=${DEVICE_SITE:-/tmp/device-site}
mkdir -p "$OUT"
LOG=$OUT/device_check.log
JSON=$OUT/device_check.json
rm -f "$JSON"
export PYTHONUNBUFFERED=1 OUT

check() {
  echo "device_check: $(date -u +%FT%TZ) on $(hostname), $(nproc) cores, $(cat /proc/loadavg)"
  if command -v nvidia-smi >/dev/null; then nvidia-smi -L; else echo "device_check: no nvidia-smi"; fi
  local probe="import rasterio, shapely, distributed, open_clip"
  if ! "$PYTHON" -c "$probe" 2>/dev/null; then
    if ! compgen -G ".whl/*.whl" >/dev/null; then
      echo "device_check: the project's imports are missing and .whl/ holds no wheels:" \
        "run scripts/device_wheels.sh here and carry .whl"
    else
      local start=$SECONDS
      if "$PYTHON" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target "$SITE" .whl/*.whl; then
        echo "device_check: installed $(ls .whl/*.whl | wc -l) wheels in $((SECONDS - start)) s"
      else
        echo "device_check: installing .whl/ into $SITE failed"
      fi
      export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
    fi
  fi
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}
  "$PYTHON" -m scripts.device_steps --out "$OUT" "$@"
}

check "$@" 2>&1 | tee "$LOG"
rc=${PIPESTATUS[0]}
if [[ ! -s $JSON ]]; then  # the steps never started: say so where the report is read
  printf '{"check": "blindpairs device check", "finished": false, "exit_code": %d, %s}\n' \
    "$rc" '"error": "device_steps.py wrote no report; see device_check.log"' >"$JSON"
else
  "$PYTHON" - "$JSON" "$rc" <<'PY' || true
import json, sys
path, rc = sys.argv[1], int(sys.argv[2])
with open(path, encoding="utf-8") as f:
    doc = json.load(f)
doc["exit_code"] = rc
with open(path, "w", encoding="utf-8") as f:
    json.dump(doc, f, indent=1)
    f.write("\n")
PY
fi
echo "device_check: exit $rc; $JSON" | tee -a "$LOG"
exit "$rc"
