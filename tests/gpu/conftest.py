"""GPU tests run on any wgpu adapter, Mesa's software Vulkan (lavapipe) included.

Without an adapter they skip, saying what to install; with FERROGRAD_REQUIRE_GPU=1 (set by
.ci/run, which installs lavapipe) a missing adapter is a failure instead, so CI cannot pass
by skipping them.
"""

import os

import pytest

import ferrograd as fg


@pytest.fixture(autouse=True)
def _need_gpu():
    if fg.is_available("wgpu"):
        return
    if os.environ.get("FERROGRAD_REQUIRE_GPU") == "1":
        pytest.fail("FERROGRAD_REQUIRE_GPU=1 but no wgpu adapter opens: install libvulkan1 and mesa-vulkan-drivers")
    pytest.skip("no GPU adapter for wgpu; install a Vulkan driver (e.g. `apt-get install libvulkan1 mesa-vulkan-drivers`)")
