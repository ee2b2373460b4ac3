"""The one-call paths (issue 7): a built-in-layers ``Sequential`` runs forward in one Rust call,
and ``fit`` runs each step's forward + loss in one call. Both must give exactly what the
layer-by-layer path gives: same outputs, same gradients, same dropout masks, same running
statistics, same training trajectory."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import models, nn, optim
from ferrograd.data import DataLoader, TensorDataset
from ferrograd.nn import functional as F
from ferrograd.train import fit


def _slow_forward(seq, x):
    for m in seq:
        x = m(x)
    return x


def _models():
    fg.manual_seed(0)
    yield models.mlp(12, [16, 8], 5, dropout_in=0.2, dropout_hidden=0.5)
    yield models.mlp(12, [16, 8], 5, activation="sigmoid", batch_norm=True)
    yield nn.Sequential(nn.Linear(12, 6), nn.PReLU(6), nn.Tanh(), nn.LeakyReLU(0.1), nn.Identity(), nn.Linear(6, 3))
    yield nn.Sequential(nn.Linear(12, 6, bias=False), nn.BatchNorm1d(6, momentum=None), nn.ReLU(), nn.Linear(6, 3))


@pytest.mark.parametrize("idx", range(4))
@pytest.mark.parametrize("training", [True, False])
def test_sequential_fast_forward_equals_layer_by_layer(idx, training):
    model = list(_models())[idx]
    model.train(training)
    twin = copy.deepcopy(model)
    assert model._fast_plan() is not None
    x = fg.tensor(np.random.default_rng(1).standard_normal((7, 12)).astype(np.float32))
    fg.manual_seed(5)
    out = model(x)
    fg.manual_seed(5)
    ref = _slow_forward(twin, x)
    np.testing.assert_array_equal(out.numpy(), ref.numpy())
    y = np.arange(7) % out.shape[1]
    F.cross_entropy(out, y).backward()
    F.cross_entropy(ref, y).backward()
    for (name, p), q in zip(model.named_parameters(), twin.parameters()):
        np.testing.assert_array_equal(p.grad.numpy(), q.grad.numpy(), err_msg=name)
    for (name, b), c in zip(model.named_buffers(), twin.buffers()):
        np.testing.assert_array_equal(b.numpy(), c.numpy(), err_msg=name)


def test_cnn_fast_forward_equals_layer_by_layer():
    fg.manual_seed(0)
    model = models.cnn(channels=(3, 4), hidden=8, image_size=8, dropout=0.3, batch_norm=True)
    twin = copy.deepcopy(model)
    x = fg.tensor(np.random.default_rng(2).standard_normal((3, 1, 8, 8)).astype(np.float32))
    fg.manual_seed(1)
    out = model(x)
    fg.manual_seed(1)
    np.testing.assert_allclose(out.numpy(), _slow_forward(twin, x).numpy(), rtol=0, atol=0)


def test_plan_sees_changes_and_falls_back():
    model = nn.Sequential(nn.Linear(4, 3), nn.Dropout(0.5))
    x = fg.ones(2, 4)
    model.train()
    fg.manual_seed(0)
    a = model(x).numpy()
    model[1].p = 0.0  # a plain attribute change must reach the plan
    np.testing.assert_allclose(model(x).numpy(), model[0](x).numpy())
    model.eval()
    np.testing.assert_allclose(model(x).numpy(), model[0](x).numpy())
    with fg.no_grad():
        model[0].weight.copy_(fg.zeros(3, 4))  # in-place writes share storage with the plan
    np.testing.assert_allclose(model(x).numpy(), np.broadcast_to(model[0].bias.numpy(), (2, 3)))
    model[0].weight = nn.Parameter(fg.ones(3, 4))  # a replaced parameter is seen
    np.testing.assert_allclose(model(x).numpy(), 4 + np.broadcast_to(model[0].bias.numpy(), (2, 3)), rtol=1e-6)
    assert a.shape == (2, 3)

    class Twice(nn.Module):
        def forward(self, x):
            return x * 2

    model.append(Twice())  # an unknown module: the layer-by-layer path
    assert model._fast_plan() is None
    np.testing.assert_allclose(model(x).numpy(), 2 * (4 + np.broadcast_to(model[0].bias.numpy(), (2, 3))), rtol=1e-6)


def test_bad_input_still_raises_clear_errors():
    model = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    with pytest.raises(ValueError, match="linear"):
        model(fg.ones(2, 5))
    with pytest.raises(ValueError, match="BatchNorm1d"):
        nn.Sequential(nn.BatchNorm1d(3))(fg.ones(2, 3, 1, 1))


@pytest.mark.parametrize("bn", [False, True])
def test_fit_fast_path_matches_the_python_loop(bn):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 10)).astype(np.float32)
    y = rng.integers(0, 4, 64)
    fg.manual_seed(3)
    model = models.mlp(10, [16], 4, dropout_in=0.0 if bn else 0.2, dropout_hidden=0.0 if bn else 0.5, batch_norm=bn)
    twin = copy.deepcopy(model)
    opt, opt2 = optim.Adam(model.parameters(), lr=1e-2), optim.Adam(twin.parameters(), lr=1e-2)
    fg.manual_seed(7)
    hist = fit(model, opt, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=1), epochs=2,
               progress=False)
    # The reference: the same loop written out, layer by layer (a loss_fn that is not
    # F.cross_entropy itself keeps fit off the fast path).
    fg.manual_seed(7)
    hist2 = fit(twin, opt2, DataLoader(TensorDataset(x, y), batch_size=16, shuffle=True, seed=1), epochs=2,
                progress=False, loss_fn=lambda o, t: F.cross_entropy(o, t))
    for a, b in zip(hist.records, hist2.records):
        assert a["train_loss"] == pytest.approx(b["train_loss"], rel=1e-6)
        assert a["train_acc"] == b["train_acc"]
    for p, q in zip(model.parameters(), twin.parameters()):
        np.testing.assert_allclose(p.numpy(), q.numpy(), rtol=1e-6, atol=1e-7)
