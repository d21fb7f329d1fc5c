#!/bin/bash
# Packs the native backend for a GPU machine that reaches no registry (deploy/gpu-offline/README.md):
# Node, TensorFlow's two libraries (symbols stripped: 1.0 GB), and the CUDA 12 runtime library
# from its PyPI wheel, as one xz stream cut into parts that each fit one device call beside the
# checkout; then the bundle (bundle.mjs). Run from the repository root after pnpm setup:native.
#   bash deploy/gpu-offline/pack.sh [PART_BYTES]     (default: 64 MiB less the tracked files, less 2 MB)
set -euo pipefail
cd "$(dirname "$0")/../.."
NATIVE=${GROKSTREAM_NATIVE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/grokstream/native}/tensorflow-2.21.0/tensorflow
[ -f "$NATIVE/libtensorflow_cc.so.2" ] || { echo "pack: no TensorFlow libraries at $NATIVE: run pnpm setup:native first" >&2; exit 1; }
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -1 | cut -f1)
PART=${1:-$(( 64 * 1024 * 1024 - tracked - 2000000 ))}
STAGE=$(mktemp -d); trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/a/deps/lib" .gpu
echo "pack: the CUDA 12 runtime (nvidia-cuda-runtime-cu12 from PyPI)"
python3 -m pip download -q --no-deps --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3.11 nvidia-cuda-runtime-cu12==12.5.82 -d "$STAGE/whl"
unzip -q -j "$STAGE"/whl/*.whl 'nvidia/cuda_runtime/lib/libcudart.so.12' -d "$STAGE/a/deps/lib"
echo "pack: TensorFlow's libraries without their symbol tables"
strip --strip-all -o "$STAGE/a/deps/lib/libtensorflow_cc.so.2" "$NATIVE/libtensorflow_cc.so.2"
strip --strip-all -o "$STAGE/a/deps/lib/libtensorflow_framework.so.2" "$NATIVE/libtensorflow_framework.so.2"
cp "$(command -v node)" "$STAGE/node"
echo "pack: compressing (xz, about 5 minutes on 2 cores)"
rm -f .gpu/part*
tar -C "$STAGE" -cf - node a | xz -T0 -6 | split -b "$PART" -d -a 2 - .gpu/part
node deploy/gpu-offline/bundle.mjs
ls -l .gpu/part* | awk '{print "pack: " $NF ": " $5 " bytes"}'
echo "pack: parts of $PART bytes; the bundle in .gpu/app ($(du -sh .gpu/app | cut -f1))"
