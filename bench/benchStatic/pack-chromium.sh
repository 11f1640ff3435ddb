#!/usr/bin/env bash
# Packs this machine's Debian Chromium with the shared libraries it links (glibc and libstdc++ left out:
# the target has its own) into OUT.tar.xz, to run the static benchmark on a Linux GPU machine that has
# Python and an NVIDIA driver but no browser (bench/benchStatic/run-on-gpu-host.sh unpacks and runs it).
#   bench/benchStatic/pack-chromium.sh OUT.tar.xz
set -euo pipefail
out=${1:?usage: pack-chromium.sh OUT.tar.xz}
src=${CHROMIUM_DIR:-/usr/lib/chromium}
[ -x "$src/chromium" ] || { echo "pack-chromium: no $src/chromium (apt-get install chromium)" >&2; exit 2; }
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/cr/lib" "$stage/cr/locales"
cp "$src"/{chromium,chrome_crashpad_handler,icudtl.dat,resources.pak,chrome_100_percent.pak,v8_context_snapshot.bin,snapshot_blob.bin,libvulkan.so.1,libEGL.so,libGLESv2.so,libvk_swiftshader.so,vk_swiftshader_icd.json} "$stage/cr/"
cp "$src/locales/en-US.pak" "$stage/cr/locales/"
ldd "$src/chromium" | awk '/=>/ {print $3}' | grep -vE '/(libc|libm|libdl|libpthread|librt|libresolv|libstdc\+\+|libgcc_s)\.so|ld-linux' |
  while read -r lib; do cp -L "$lib" "$stage/cr/lib/"; done
# NSS loads its soft token at run time; glvnd is what an NVIDIA driver's GL/Vulkan libraries call into.
for l in libfreebl3.so libfreeblpriv3.so libnssckbi.so libnssdbm3.so libsoftokn3.so libssl3.so \
         libEGL.so.1 libGLX.so.0 libGLdispatch.so.0 libOpenGL.so.0 libGL.so.1; do
  [ -e "/usr/lib/x86_64-linux-gnu/$l" ] && cp -L "/usr/lib/x86_64-linux-gnu/$l" "$stage/cr/lib/"
done
tar cf - -C "$stage" cr | xz -9 -T0 > "$out.tmp"
mv "$out.tmp" "$out"
echo "pack-chromium: $out ($(du -h "$out" | cut -f1)), $("$src/chromium" --version 2>/dev/null)" >&2
