"""Training on wgpu: optimizers, whole models and the device API."""

import os
import subprocess
import sys

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn as nn
import ferrograd.nn.functional as F

OPTIMIZERS = {
    "sgd": lambda p: fg.optim.SGD(p, lr=0.1),
    "sgd_momentum_wd": lambda p: fg.optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=1e-2, dampening=0.1),
    "sgd_nesterov": lambda p: fg.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True),
    "adam": lambda p: fg.optim.Adam(p, lr=1e-2),
    "adam_amsgrad_l2": lambda p: fg.optim.Adam(p, lr=1e-2, amsgrad=True, weight_decay=1e-2),
    "adamw_maximize": lambda p: fg.optim.AdamW(p, lr=1e-2, maximize=True),
    "adamax": lambda p: fg.optim.Adamax(p, lr=1e-2, weight_decay=1e-3),
    "adagrad": lambda p: fg.optim.Adagrad(p, lr=0.1, lr_decay=0.01),
    "rmsprop": lambda p: fg.optim.RMSprop(p, lr=1e-2),
    "rmsprop_centered_momentum": lambda p: fg.optim.RMSprop(p, lr=1e-2, momentum=0.5, centered=True),
    "rmsprop_centered": lambda p: fg.optim.RMSprop(p, lr=1e-2, centered=True),
    "adadelta": lambda p: fg.optim.Adadelta(p, lr=1.0, weight_decay=1e-3),
}


def _steps(device, make_opt, steps=4):
    fg.manual_seed(3)
    rng = np.random.default_rng(1)
    model = nn.Sequential(nn.Linear(6, 8), nn.ReLU(), nn.Linear(8, 3)).to(device)
    opt = make_opt(model.parameters())
    x = fg.tensor(rng.standard_normal((10, 6)).astype(np.float32), device=device)
    y = rng.integers(0, 3, 10)
    for _ in range(steps):
        opt.zero_grad()
        F.cross_entropy(model(x), y).backward()
        opt.step()
    return [p.numpy() for p in model.parameters()], [p.device for p in model.parameters()]


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_optimizer_steps_match_cpu(name):
    want, _ = _steps("cpu", OPTIMIZERS[name])
    got, devs = _steps("wgpu", OPTIMIZERS[name])
    assert set(devs) == {"wgpu"}
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)


def _model(kind):
    # Layers feeding BatchNorm have no bias: its gradient is zero up to rounding noise, which
    # Adam would scale into full steps that differ between devices (and between any two BLAS).
    if kind == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 32), nn.ReLU(), nn.Linear(32, 10))
    if kind == "mlp_bn_prelu":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 32, bias=False), nn.BatchNorm1d(32), nn.PReLU(), nn.Linear(32, 10))
    if kind == "cnn":
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
                             nn.Conv2d(4, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.LeakyReLU(0.1), nn.AvgPool2d(2),
                             nn.Flatten(), nn.Linear(8 * 2 * 2, 10))
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["mlp", "mlp_bn_prelu", "cnn"])
def test_model_training_matches_cpu(kind):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 1, 8, 8)).astype(np.float32)
    y = rng.integers(0, 10, 16)
    results = {}
    for dev in ("cpu", "wgpu"):
        fg.manual_seed(7)
        model = _model(kind).to(dev)
        opt = fg.optim.Adam(model.parameters(), lr=1e-2)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = F.cross_entropy(model(fg.tensor(x, device=dev)), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        model.eval()
        with fg.no_grad():
            out = model(fg.tensor(x, device=dev)).numpy()
        results[dev] = (losses, out, model.state_dict())
    np.testing.assert_allclose(results["wgpu"][0], results["cpu"][0], rtol=1e-4)
    np.testing.assert_allclose(results["wgpu"][1], results["cpu"][1], rtol=1e-3, atol=1e-4)
    for k, v in results["cpu"][2].items():
        np.testing.assert_allclose(results["wgpu"][2][k].numpy(), v.numpy(), rtol=1e-3, atol=1e-4, err_msg=k)


def test_dropout_model_trains_on_gpu_with_fit():
    from ferrograd.data import DataLoader, TensorDataset
    from ferrograd import train
    rng = np.random.default_rng(0)
    centers = rng.standard_normal((3, 20)).astype(np.float32) * 3
    y = rng.integers(0, 3, 300)
    x = centers[y] + rng.standard_normal((300, 20)).astype(np.float32)
    fg.manual_seed(0)
    model = nn.Sequential(nn.Dropout(0.2), nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.5), nn.Linear(64, 3)).to("wgpu")
    opt = fg.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    loader = DataLoader(TensorDataset(fg.tensor(x), y), batch_size=32, shuffle=True)
    hist = train.fit(model, opt, loader, epochs=5, max_norm=3.0, progress=False, log=lambda *_: None)
    assert all(p.device == "wgpu" for p in model.parameters())
    assert hist.records[-1]["train_loss"] < hist.records[0]["train_loss"]
    res = train.evaluate(model, DataLoader(TensorDataset(fg.tensor(x), y), batch_size=100))
    assert res["acc"] > 0.9, res
    for p in model.parameters():
        if p.ndim == 2:
            assert np.linalg.norm(p.numpy(), axis=1).max() <= 3.0 * (1 + 1e-5)


def test_device_api():
    listed = fg.devices()
    assert listed[0]["device"] == "cpu"
    gpus = [d for d in listed if d["device"] == "wgpu"]
    assert gpus and all({"name", "backend", "software"} <= set(d) for d in gpus)
    a = fg.ones(2, 3)
    with pytest.raises(RuntimeError, match="same device"):
        a + fg.ones(2, 3, device="wgpu")
    with pytest.raises(RuntimeError, match="same device"):
        fg.ones(2, 3, device="wgpu") @ fg.ones(3, 2)
    with pytest.raises(ValueError, match="unknown device"):
        a.to("tpu")
    g = a.to("wgpu")
    assert g.to("wgpu") is g and g.cpu().device == "cpu"
    # A CPU scalar tensor mixes with GPU tensors, as in torch.
    assert (g * fg.tensor(2.0)).device == "wgpu"
    m = nn.Linear(3, 2)
    assert m.device == "cpu" and m.to("wgpu").device == "wgpu" and m.weight.device == "wgpu"
    fg.set_default_device("wgpu")
    try:
        assert fg.zeros(2).device == "wgpu" and nn.Linear(2, 2).weight.device == "wgpu"
    finally:
        fg.set_default_device("cpu")
    assert fg.zeros(2).device == "cpu"


def test_save_load_from_gpu(tmp_path):
    m = nn.Linear(4, 3).to("wgpu")
    fg.save(m.state_dict(), tmp_path / "m.safetensors")
    back = fg.load(tmp_path / "m.safetensors")
    np.testing.assert_array_equal(back["weight"].numpy(), m.weight.numpy())
    m2 = nn.Linear(4, 3).to("wgpu")
    m2.load_state_dict(back)
    assert m2.weight.device == "wgpu"
    np.testing.assert_array_equal(m2.weight.numpy(), m.weight.numpy())


def test_env_default_device_and_no_driver():
    code = ("import ferrograd as fg, ferrograd.nn as nn\n"
            "assert fg.get_default_device() == 'wgpu'\n"
            "assert fg.zeros(3).device == 'wgpu' and nn.Linear(2, 2).weight.device == 'wgpu'\n")
    env = dict(os.environ, FERROGRAD_DEVICE="wgpu")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)
    # No Vulkan driver at all: CPU work is untouched, the GPU gives a clear error.
    code = ("import ferrograd as fg\n"
            "assert (fg.ones(2) * 2).tolist() == [2.0, 2.0]\n"
            "assert not fg.is_available('wgpu')\n"
            "try:\n    fg.ones(2).to('wgpu')\nexcept RuntimeError as e:\n    assert 'mesa-vulkan-drivers' in str(e), e\n"
            "else:\n    raise SystemExit('no error')\n")
    env = dict(os.environ, VK_ICD_FILENAMES="/nonexistent.json", VK_DRIVER_FILES="/nonexistent.json")
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


def test_tensor_larger_than_a_binding_is_refused_clearly():
    limit = fg._core.wgpu_open()["max_tensor_elements"]
    if limit > 64 << 20:
        pytest.skip(f"this device binds {limit} elements; testing the limit would allocate too much")
    big = fg.zeros(limit + 1)
    with pytest.raises(RuntimeError, match="exceeds this device's largest storage binding"):
        big.to("wgpu")


def test_optimizer_state_dict_round_trip_on_gpu():
    rng = np.random.default_rng(0)
    x = fg.tensor(rng.standard_normal((8, 5)).astype(np.float32), device="wgpu")
    y = rng.integers(0, 3, 8)

    def run(model, opt, steps):
        for _ in range(steps):
            opt.zero_grad()
            F.cross_entropy(model(x), y).backward()
            opt.step()

    fg.manual_seed(1)
    a = nn.Linear(5, 3).to("wgpu")
    b = nn.Linear(5, 3).to("wgpu")
    b.load_state_dict(a.state_dict())
    opt_a = fg.optim.Adam(a.parameters(), lr=1e-2)
    run(a, opt_a, 2)
    b.load_state_dict(a.state_dict())
    opt_b = fg.optim.Adam(b.parameters(), lr=1e-2)
    opt_b.load_state_dict(opt_a.state_dict())
    assert all(t.device == "wgpu" for st in opt_b.state.values() for t in st.values() if isinstance(t, fg.Tensor))
    run(a, opt_a, 2)
    run(b, opt_b, 2)
    np.testing.assert_allclose(b.weight.numpy(), a.weight.numpy(), rtol=1e-6, atol=1e-7)
