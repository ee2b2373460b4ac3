#!/bin/bash
# The one command to run benches/gpu_compare.py on a lent GPU machine (see
# ../shared/gpu-probe/README.md). That machine has the NVIDIA driver and its Vulkan ICD but no
# Vulkan loader, and Python 3.12 with numpy and torch. Prepare here, once:
#   printf '/.gl/\n/.whl/\n' >> .git/info/exclude
#   mkdir -p .gl .whl && (cd .gl && apt-get download libvulkan1:amd64)
#   maturin build --release --out .whl          # the abi3 wheel of ferrograd
# then call the device tool with carry [".gl", ".whl"] and the command
#   bash benches/gpu_on_device.sh
# Figures land in $OUT/gpu_compare.json and the log.
set -u
for f in .gl/*.deb; do dpkg -x "$f" /; done; ldconfig
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .whl/*.whl || echo "pip failed"
export PYTHONPATH=/tmp/site PYTHONUNBUFFERED=1
[ -f /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json ] && export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
nvidia-smi --query-gpu=name,driver_version --format=csv
python3 -c "import ferrograd as fg; print(fg.devices())"
timeout 500 python3 benches/gpu_compare.py --json "${OUT:-.}/gpu_compare.json" 2>&1 | grep -v XDG | tee "${OUT:-.}/gpu_compare.log"
