#!/usr/bin/env bash
# All of Storm's GPU figures in one call on the device machine (NVIDIA, EGL, Python 3.12):
#   run with carry [".gl", ".whl"]; results land in $OUT.
# .gl holds the glvnd/EGL .debs and .whl either the cp312 wheels (panda3d, panda3d-gltf,
# simplepbr, DracoPy, semver, pluggy, PyOpenGL, llsd) or gpusite.tar.xz, those wheels unpacked,
# trimmed and packed (see docs/benchmarks.md for how to fetch them).
set -uo pipefail
OUT=${OUT:-out/gpu}
mkdir -p "$OUT"
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
if [ -f .whl/gpusite.tar.xz ]; then
  # the packages unpacked and trimmed (panda3d's tools and deployment libraries left out), one
  # xz archive: a whole panda3d wheel plus the rest would not fit the 64 MiB a call carries
  tar xJf .whl/gpusite.tar.xz -C /tmp && mv /tmp/gpusite /tmp/site || exit 1
else
  python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || exit 1
fi
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
export __EGL_VENDOR_LIBRARY_FILENAMES=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python3 main.py play --offscreen --frames 120 --size 1280x720 --screenshot "$OUT/demo_gpu.png" 2>&1 | tail -3
for size in 1280x720 1920x1080; do
  python3 -m tools.bench.demo --size "$size" --frames 600 --warmup 120 --plot "$OUT/bench_demo_$size.png" \
    2> "$OUT/bench_demo_$size.log" | tail -n1 | tee "$OUT/bench_demo_$size.json"
done
# VR: a stereo frame (both eyes 2064x2208, simulated backend) against a mono frame of the same size
python3 -m tools.bench.xr --eye-size 2064x2208 --frames 120 --warmup 20 2> "$OUT/bench_xr.log" | tail -n1 | tee "$OUT/bench_xr.json"
# OpenSimulator client: one frame of a region of 1,000 prims (no OpenSimulator there: --no-server)
python3 -m tools.bench.opensim --no-server --size 1280x720 --frames 300 --warmup 60 2> "$OUT/bench_opensim.log" | tail -n1 | tee "$OUT/bench_opensim.json"
# The editor's 3D view without Dear PyGui (no X server there): each read back path (pbo: pixel
# buffers a frame late through PyOpenGL, from .whl; sync: Panda3D's own copy) and copy mode, both
# shadings, beside Panda3D drawing alone; every record in the .jsonl, the summary in the .json
python3 -m tools.bench.editor --no-ui --sizes 1280x720,1920x1080 --frames 150 --warmup 20 \
  2> "$OUT/bench_editor.log" > "$OUT/bench_editor.jsonl"
tail -n1 "$OUT/bench_editor.jsonl" | tee "$OUT/bench_editor.json"
