#!/usr/bin/env bash
# Create (once) a separate virtual environment holding the Label Studio server.
#
# label-studio pins exact versions of numpy, pyarrow and many more, so it can
# not share the project's .venv. The tests (tests/annotation_export) look for
# the binary at $LABEL_STUDIO_VENV/bin/label-studio.
#
# Idempotent: when the pinned version is already installed it exits at once.
#   LABEL_STUDIO_VENV     target venv (default: <repo>/.venv-labelstudio)
#   LABEL_STUDIO_VERSION  version to install (default: pinned below)
#   LABEL_STUDIO_PYTHON   interpreter for the venv (default: python3.11, else python3)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LABEL_STUDIO_VENV:-$repo_root/.venv-labelstudio}"
version="${LABEL_STUDIO_VERSION:-1.23.2}"
python="${LABEL_STUDIO_PYTHON:-$(command -v python3.11 || command -v python3)}"

installed_version() {
    "$venv/bin/python" - <<'PY' 2>/dev/null
from importlib.metadata import version
print(version("label-studio"))
PY
}

if [[ -x "$venv/bin/label-studio" ]] && [[ "$(installed_version || true)" == "$version" ]]; then
    echo "label-studio $version already installed in $venv"
    exit 0
fi

if [[ ! -x "$venv/bin/python" ]]; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "label-studio==$version"
echo "label-studio $(installed_version) installed in $venv"
