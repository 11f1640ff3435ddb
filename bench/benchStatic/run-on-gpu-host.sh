#!/usr/bin/env bash
# On a Linux GPU machine without Node or a browser: unpack the Chromium from pack-chromium.sh and the
# static site from bench/benchStatic.ts, point Chromium's Vulkan loader at the NVIDIA driver, run.
#   run-on-gpu-host.sh CHROMIUM.tar.xz SITE_DIR OUT.jsonl [GRID.json]
# How the H100 figures of docs/BENCHMARK.md were taken (GRID: "requireGpu": true, so a browser that fell
# back to SwiftShader stops at once instead of benchmarking the CPU).
set -u
pack=${1:?usage: run-on-gpu-host.sh CHROMIUM.tar.xz SITE_DIR OUT.jsonl [GRID.json]}; site=${2:?}; out=${3:?}; grid=${4:-}
work=${WORK:-/tmp/hypencoder-chromium}
mkdir -p "$work"
[ -x "$work/cr/chromium" ] || xz -d -T0 < "$pack" | tar x -C "$work" || { echo "unpack failed" >&2; exit 3; }
# Keep a carried library only where the system has none: the system's are newer, and the driver's own.
ldconfig -p | awk '{print $1}' | sort -u > "$work/system-libs"
for f in "$work"/cr/lib/*; do grep -qxF "$(basename "$f")" "$work/system-libs" && rm -f "$f"; done
# Chromium dlopens libvulkan.so.1 by name: its own copy sits next to the binary.
export LD_LIBRARY_PATH="$work/cr/lib:$work/cr"
for icd in /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json; do
  [ -f "$icd" ] && break
done
[ -f "$icd" ] || { echo "no NVIDIA Vulkan ICD manifest found" >&2; exit 3; }
export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"
missing=$(ldd "$work/cr/chromium" | grep "not found")
[ -z "$missing" ] || { echo "chromium lacks libraries: $missing" >&2; exit 3; }
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null
python3 "$site/serve.py" --browser "$work/cr/chromium" --out "$out" ${grid:+--config "$grid"} --timeout "${BENCH_TIMEOUT:-540}"
