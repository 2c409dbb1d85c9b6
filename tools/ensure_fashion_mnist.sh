#!/usr/bin/env bash
# Make sure the real Fashion-MNIST is available to `idm.datasets.load_dataset("FashionMNIST")`.
# Order: already found anywhere idm.datasets looks -> Debian's dataset-fashion-mnist (needs root and apt) -> torchvision's download.
set -uo pipefail
PY=${1:-python3}
if "$PY" -m idm.datasets FashionMNIST >/dev/null 2>&1; then
    echo "Fashion-MNIST: found"
    exit 0
fi
if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    if apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 \
       || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1; }; then
        "$PY" -m idm.datasets FashionMNIST && exit 0
    fi
fi
echo "Fashion-MNIST: apt not usable here, downloading with torchvision into ./data"
"$PY" -m idm.datasets FashionMNIST --download
