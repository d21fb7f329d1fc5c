#!/bin/bash
# Runs on the GPU machine (deploy/gpu-offline/README.md): unpacks the parts carried to /tmp/gsparts
# into /tmp/gs, links the machine's CUDA libraries under the names TF 2.21 asks for (its CUDA 12
# names; a CUDA 13 library stands in where the machine has no CUDA 12 one), then runs
#   bash .gpu/app/device.sh        the probe, pnpm gpu:check --no-build, the example on the CPU
#   bash .gpu/app/device.sh more   TF32 off, the transformer, bench:trainer on the GPU and the CPU
# Output goes to $OUT (the device tool's folder that comes back), else /tmp/out.
G=/tmp/gs; L=$G/a/deps/lib; O=${OUT:-/tmp/out}; mkdir -p $O
exec > >(tee -a $O/device.log) 2>&1
t0=$(date +%s); el() { echo "[+$(( $(date +%s) - t0 ))s] $*"; }
if [ ! -x $G/node ]; then
  el "unpacking $(ls /tmp/gsparts | wc -l) parts ($(du -cb /tmp/gsparts/* | tail -1 | cut -f1) bytes)"
  mkdir -p $G && cat /tmp/gsparts/part* | python3 -c "import lzma,shutil,sys; shutil.copyfileobj(lzma.open(sys.stdin.buffer), sys.stdout.buffer, 1<<22)" | tar -x -C $G || { el "unpack failed"; exit 1; }
fi
cp -r .gpu/app/a .gpu/app/native $G/
export PATH=$G:$PATH
el "node $(node -v); glibc $(ldd --version | head -1)"
nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader
find_lib() { find /opt /usr /usr/local -name "$1" 2>/dev/null | grep -v "/tmp/gs" | head -1; }
link() { local want=$1 have; shift; for pat in "$@"; do have=$(find_lib "$pat"); [ -n "$have" ] && break; done
  if [ -n "$have" ]; then ln -sf "$have" $L/$want; echo "  $want -> $have"; else echo "  $want: none found ($*)"; fi; }
el "linking CUDA libraries under the names TF 2.21 (built for CUDA 12) asks for"
link libcublas.so.12 libcublas.so.12 libcublas.so.13
link libcublasLt.so.12 libcublasLt.so.12 libcublasLt.so.13
link libcufft.so.11 libcufft.so.11 libcufft.so.12
link libcusolver.so.11 libcusolver.so.11 libcusolver.so.12
link libcusparse.so.12 libcusparse.so.12
link libcudnn.so.9 libcudnn.so.9
link libnccl.so.2 libnccl.so.2
DIRS=$(for f in $L/*.so.*; do [ -L $f ] && dirname $(readlink $f); done | sort -u | tr '\n' ':')
export LD_LIBRARY_PATH=$L:$DIRS$LD_LIBRARY_PATH CUDA_CACHE_MAXSIZE=4294967296
ldd $L/libtensorflow_cc.so.2 | grep 'not found'
echo "  LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
MODE=${1:-check}
R="--no-store --no-detect run.backend=tensorflow"
if [ "$MODE" = more ]; then
  el "the modular example on the GPU, 300 steps: which step engine"
  timeout 60 node $G/a/dist/grokstream.mjs run examples/modular-addition-grokking.yaml $R run.steps=300 run.checkpoint.dir=/tmp/ck1 2>&1 | grep -E "backend|step:|steps/s" | tail -5
  el "gpu-check with TF32 off (NVIDIA_TF32_OVERRIDE=0)"
  NVIDIA_TF32_OVERRIDE=0 timeout 90 node $G/a/dist/gpu-check.mjs --no-build --cli $G/a/dist/grokstream.mjs --out $O/tf32off 2>&1 | grep -E "│" | tail -8
  el "transformer example on the GPU"
  timeout 150 node $G/a/dist/grokstream.mjs run examples/transformer-grokking.yaml $R run.checkpoint.dir=/tmp/ck2 2>&1 | grep -E "backend|step |memorized|grokked|stopped|completed" | tail -22
  el "transformer example on this machine's 16 CPU cores, 400 steps"
  CUDA_VISIBLE_DEVICES= timeout 60 node $G/a/dist/grokstream.mjs run examples/transformer-grokking.yaml $R run.steps=400 run.log_every=100 run.checkpoint.dir=/tmp/ck3 2>&1 | grep -E "steps/s" | tail -4
  el "bench:trainer on the GPU"
  BENCH_BACKEND=tensorflow BENCH_STEPS=40 timeout 120 node $G/a/dist/trainer-bench.mjs 2>&1 | grep -E "^  " ; cp bench-results/trainer-tensorflow.json $O/trainer-gpu.json
  el "bench:trainer on this machine's 16 CPU cores"
  CUDA_VISIBLE_DEVICES= BENCH_BACKEND=tensorflow BENCH_STEPS=40 timeout 90 node $G/a/dist/trainer-bench.mjs 2>&1 | grep -E "^  " ; cp bench-results/trainer-tensorflow.json $O/trainer-cpu16.json
  el "done"; exit 0
fi
el "probe: does TensorFlow see the GPU?"
TF_CPP_MIN_LOG_LEVEL=0 timeout 120 node $G/a/dist/probe.mjs 2>&1 | grep -v "^\s*$" | tail -40
el "gpu-check"
timeout ${GPU_CHECK_S:-240} node $G/a/dist/gpu-check.mjs --no-build --cli $G/a/dist/grokstream.mjs --out $O 2>&1 | tail -40
el "the same example on this machine's CPU (CUDA_VISIBLE_DEVICES=), native TensorFlow"
CUDA_VISIBLE_DEVICES= timeout 60 node $G/a/dist/grokstream.mjs run examples/modular-addition-grokking.yaml --no-store --no-detect run.backend=tensorflow run.checkpoint.dir=/tmp/ck-cpu 2>&1 | grep -E "steps/s|memorized|grokked|backend|step:" | tail -6
el "done"
