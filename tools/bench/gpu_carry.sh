#!/usr/bin/env bash
# Fetch what tools/bench/gpu_figures.sh needs on the GPU machine (Python 3.12, no Storm venv):
#   .gl/                  the glvnd/EGL/Vulkan loader .debs
#   .whl/gpusite.tar.xz   Storm's runtime packages as cp312 wheels, unpacked, trimmed, one archive
# Both are ignored by git (.git/info/exclude). Run from the repository root; needs pip and apt-get.
set -euo pipefail
grep -qx '/.gl/' .git/info/exclude 2>/dev/null || echo /.gl/ >> .git/info/exclude
grep -qx '/.whl/' .git/info/exclude 2>/dev/null || echo /.whl/ >> .git/info/exclude
mkdir -p .gl .whl /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
# shellcheck disable=SC2086
apt-get $o update -qq
# shellcheck disable=SC2086
(cd .gl && apt-get $o download libvulkan1 libegl1 libglvnd0 libopengl0 libgl1 libglx0 libgles2)
pins=()
for name in panda3d panda3d-gltf panda3d-simplepbr DracoPy semver pluggy PyOpenGL llsd; do
  pins+=("$(grep -i "^$name==" requirements.txt)")
done
wheels=$(mktemp -d) site=$(mktemp -d)/gpusite
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 --platform manylinux_2_27_x86_64 --platform manylinux_2_17_x86_64 \
  --platform manylinux2014_x86_64 --platform manylinux1_x86_64 -d "$wheels" "${pins[@]}"
mkdir -p "$site"
for w in "$wheels"/*.whl; do unzip -q -o "$w" -d "$site"; done
# not needed to render and measure: panda3d's command-line tools, deployment libraries,
# interrogate input, assimp and the software renderer; DracoPy's C++ headers and libraries
rm -rf "$site"/panda3d_tools "$site"/deploy_libs "$site"/pandac/input "$site"/dracopy-*.data \
  "$site"/panda3d/libp3assimp.so "$site"/panda3d/libp3tinydisplay.so
tar cJf .whl/gpusite.tar.xz -C "$(dirname "$site")" gpusite
rm -rf "$wheels" "$(dirname "$site")"
du -sh .gl .whl
