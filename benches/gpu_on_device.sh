#!/bin/bash
# The one command to run benches/gpu_compare.py on a lent GPU machine (see
# ../shared/gpu-probe/README.md). That machine has the NVIDIA driver and its Vulkan ICD but no
# Vulkan loader, and Python 3.12 with numpy and torch. Prepare here, once:
#   printf '/.gl/\n/.whl/\n' >> .git/info/exclude
#   mkdir -p .gl .whl && (cd .gl && apt-get download libvulkan1 libglvnd0 libegl1 libgl1 libglx0 \
#       libopengl0 libgles2)     # amd64; the NVIDIA ICD did not load with libvulkan1 alone
#   maturin build --release --out .whl          # the abi3 wheel of ferrograd
# then call the device tool with carry [".gl", ".whl"] and the command
#   bash benches/gpu_on_device.sh
# First the GPU tests run on the real adapter (tests/gpu, at most 150 s), then the GEMM plan
# sweep, the CNN's per-layer times and the comparison; figures land in $OUT
# (gpu_gemm_sweep.jsonl, gpu_compare.json and the logs), row by row. About a minute and a half
# on an H100, plus the machine's start.
set -u
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl || echo "pip failed"
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
nvidia-smi --query-gpu=name,driver_version --format=csv
python3 -c "import ferrograd as fg; print(fg.devices())"
timeout 150 python3 -m pytest -q -p no:cacheprovider tests/gpu 2>&1 | grep -v XDG | tail -n 30 | tee "${OUT:-.}/gpu_tests.log"
timeout 200 python3 benches/gpu_gemm_sweep.py --budget 150 --json "${OUT:-.}/gpu_gemm_sweep.jsonl" 2>&1 | grep -v XDG | tee "${OUT:-.}/gpu_gemm_sweep.log"
timeout 120 python3 benches/gpu_layers.py --model cnn --ops 2>&1 | grep -v XDG | tee "${OUT:-.}/gpu_layers.log"
timeout 200 python3 benches/gpu_compare.py --json "${OUT:-.}/gpu_compare.json" 2>&1 | grep -v XDG | tee "${OUT:-.}/gpu_compare.log"
