#!/usr/bin/env bash
# System packages the test suite needs and npm cannot bring: Chromium (the browser tests drive it
# with Playwright; Playwright's own browser download is not reachable everywhere) and Debian's
# PyTorch + ONNX (the model parity tests run the Python reference), and Debian's Dask
# (python3-distributed: `index --dask` is tested on a local cluster). Installs only what is missing.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || [ -n "${CHROMIUM_PATH:-}" ] || need+=(chromium)
/usr/bin/python3 -c 'import torch' >/dev/null 2>&1 || need+=(python3-torch)
/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1 || need+=(python3-onnx)
/usr/bin/python3 -c 'import distributed' >/dev/null 2>&1 || need+=(python3-distributed)
if [ ${#need[@]} -eq 0 ]; then
  echo "test dependencies present"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "missing: ${need[*]}; install them with your system's package manager (or set CHROMIUM_PATH)" >&2
  exit 1
fi
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "installing: ${need[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq "${need[@]}"
