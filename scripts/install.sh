#!/usr/bin/env bash
# Install arbscore into ./.venv on a fresh machine.
#   bash scripts/install.sh          # training + serving (what `arbscore run` needs)
#   bash scripts/install.sh --dev    # plus test tools, Chromium for the report/dashboard tests
# On Debian/Ubuntu (as root, or with sudo) it also installs OpenBLAS, which MLX on Linux
# preloads for ~10x faster training. Without it everything still works, only slower.
set -euo pipefail
cd "$(dirname "$0")/.."
extra="train"
apt_pkgs="libopenblas0-pthread"
if [[ "${1:-}" == "--dev" ]]; then
    extra="dev"
    apt_pkgs="$apt_pkgs chromium"
fi
if command -v apt-get >/dev/null 2>&1 && [[ "$(uname -s)" == "Linux" ]]; then
    SUDO=""
    [[ "$(id -u)" != "0" ]] && command -v sudo >/dev/null 2>&1 && SUDO="sudo"
    missing=""
    for p in $apt_pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
    if [[ -n "$missing" ]]; then
        if [[ "$(id -u)" == "0" || -n "$SUDO" ]]; then
            echo "installing system packages:$missing"
            ($SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null) \
                || echo "warning: could not install$missing (continuing without)"
        else
            echo "note: install$missing for the fast MLX path / browser tests"
        fi
    fi
fi
PY="${PYTHON:-python3}"
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[$extra]"
echo "arbscore installed in .venv ($extra)"
# the Node test feeds the bundle's raw-input graph through onnxruntime-node (tests/node)
if [[ "$extra" == "dev" ]] && command -v npm >/dev/null 2>&1; then
    (cd tests/node && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund --silent) \
        || echo "note: npm ci in tests/node failed; the Node parity test will be skipped"
fi
