"""nn.Module semantics: registration, traversal, modes, state_dict, repr, user subclasses."""

from __future__ import annotations

import copy

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.ReLU())
        self.head = nn.Linear(8, 3)
        self.scale = nn.Parameter(fg.ones(1))
        self.register_buffer("calls", fg.zeros(()))
        self.not_a_param = fg.zeros(2)

    def forward(self, x):
        self.calls += 1
        return self.head(self.body(x)) * self.scale


def test_registration_and_traversal():
    m = Net()
    names = [n for n, _ in m.named_parameters()]
    assert names == ["scale", "body.0.weight", "body.0.bias", "body.1.weight", "body.1.bias", "head.weight", "head.bias"]
    assert len(list(m.parameters())) == 7
    assert [n for n, _ in m.named_buffers()] == ["calls", "body.1.running_mean", "body.1.running_var", "body.1.num_batches_tracked"]
    assert [type(c).__name__ for c in m.children()] == ["Sequential", "Linear"]
    assert len(list(m.modules())) == 6
    assert isinstance(m.scale, nn.Parameter) and m.scale.requires_grad
    assert "not_a_param" not in dict(m.named_parameters())


def test_shared_parameters_are_listed_once():
    lin = nn.Linear(3, 3)
    seq = nn.Sequential(lin, nn.ReLU(), lin)
    assert len(list(seq.parameters())) == 2


def test_train_eval_and_zero_grad():
    m = Net()
    assert m.training and m.body[1].training
    m.eval()
    assert not m.training and not m.body[1].training
    m.train()
    out = m(fg.randn(5, 4)).sum()
    out.backward()
    assert all(p.grad is not None for p in m.parameters())
    m.zero_grad(set_to_none=False)
    assert all(np.all(p.grad.numpy() == 0) for p in m.parameters())
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    assert m.calls.item() == 1


def test_state_dict_round_trip_and_errors():
    a, b = Net(), Net()
    a(fg.randn(6, 4))  # move BatchNorm's running statistics
    sd = a.state_dict()
    assert "calls" in sd and "body.1.running_var" in sd and "scale" in sd
    b.load_state_dict(sd)
    a.eval(), b.eval()
    x = fg.randn(3, 4)
    np.testing.assert_array_equal(a(x).numpy(), b(x).numpy())
    bad = dict(sd)
    del bad["head.bias"]
    bad["extra"] = fg.zeros(1)
    with pytest.raises(KeyError, match=r"missing keys \['head.bias'\].*unexpected keys \['extra'\]"):
        b.load_state_dict(bad)
    res = b.load_state_dict(bad, strict=False)
    assert res.missing_keys == ["head.bias"] and res.unexpected_keys == ["extra"]
    wrong = dict(sd)
    wrong["head.weight"] = fg.zeros(2, 2)
    before = b.head.bias.numpy().copy()
    wrong["head.bias"] = fg.full((3,), 7.0)
    with pytest.raises(ValueError, match=r"'head.weight' has shape \(2, 2\).*\(3, 8\)"):
        b.load_state_dict(wrong)
    np.testing.assert_array_equal(b.head.bias.numpy(), before)  # nothing half-loaded


def test_repr_is_readable():
    r = repr(Net())
    assert "(body): Sequential(" in r and "(0): Linear(in_features=4, out_features=8, bias=True)" in r
    assert "(head): Linear(in_features=8, out_features=3, bias=True)" in r


def test_sequential_indexing_iteration_and_len():
    s = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    assert len(s) == 3 and isinstance(s[0], nn.Linear) and isinstance(s[-1], nn.Linear)
    assert [type(m).__name__ for m in s] == ["Linear", "ReLU", "Linear"]
    assert len(s[1:]) == 2
    with pytest.raises(IndexError):
        s[3]
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), 3)


def test_errors_for_bad_assignment_and_missing_super_init():
    m = Net()
    with pytest.raises(TypeError, match="parameter 'scale'"):
        m.scale = fg.zeros(1)

    class Bad(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(fg.zeros(1))

    with pytest.raises(RuntimeError, match="super"):
        Bad()
    with pytest.raises(AttributeError, match="nothing"):
        m.nothing
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="probability"):
        nn.Dropout(1.5)
    with pytest.raises(ValueError, match="expected a 2-D or 3-D"):
        nn.BatchNorm1d(3)(fg.zeros(2, 3, 4, 5))
    with pytest.raises(ValueError, match="channels"):
        nn.Conv2d(3, 4, 3)(fg.zeros(1, 2, 5, 5))
    with pytest.raises(ValueError, match="linear"):
        nn.Linear(3, 2)(fg.zeros(4, 5))


def test_deepcopy_and_parameter_sharing_semantics():
    m = nn.Linear(3, 2)
    c = copy.deepcopy(m)
    np.testing.assert_array_equal(c.weight.numpy(), m.weight.numpy())
    with fg.no_grad():
        c.weight.fill_(0.0)
    assert not np.all(m.weight.numpy() == 0)
    t = fg.randn(3)
    p = nn.Parameter(t)
    with fg.no_grad():
        p.fill_(1.0)
    assert t.tolist() == [1.0, 1.0, 1.0]  # Parameter(t) shares storage, as in torch
    assert "Parameter containing" in repr(p)


def test_user_subclass_trains():
    """A user's own Module, forward written with ferrograd ops, learns XOR-like data."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((256, 2)).astype(np.float32)
    y = ((x[:, 0] * x[:, 1]) > 0).astype(np.int64)

    class Tiny(nn.Module):
        def __init__(self):
            super().__init__()
            self.w1 = nn.Parameter(fg.randn(2, 32) * 0.5)
            self.b1 = nn.Parameter(fg.zeros(32))
            self.out = nn.Linear(32, 2)

        def forward(self, t):
            return self.out((t @ self.w1 + self.b1).tanh())

    fg.manual_seed(0)
    model = Tiny()
    xt = fg.tensor(x)
    for _ in range(400):
        loss = nn.functional.cross_entropy(model(xt), y)
        model.zero_grad()
        loss.backward()
        with fg.no_grad():
            for p in model.parameters():
                p -= 0.5 * p.grad
    acc = (model(xt).argmax(dim=1).numpy() == y).mean()
    assert acc > 0.95, acc


def test_max_norm_and_clip_grad_norm():
    m = nn.Sequential(nn.Linear(10, 5), nn.ReLU(), nn.Conv2d(2, 3, 2))
    with fg.no_grad():
        m[0].weight.mul_(100.0)
        m[2].weight.mul_(100.0)
    bias_before = m[0].bias.numpy().copy()
    small_row = 0
    with fg.no_grad():
        m[0].weight[small_row] = fg.full((10,), 0.01)
    nn.utils.max_norm_(m, 2.0)
    norms = np.linalg.norm(m[0].weight.numpy(), axis=1)
    assert np.all(norms <= 2.0 + 1e-5) and np.allclose(norms[1:], 2.0, rtol=1e-5)
    assert norms[small_row] == pytest.approx(np.sqrt(10) * 0.01, rel=1e-4)  # inside the ball: untouched
    fnorms = np.linalg.norm(m[2].weight.numpy().reshape(3, -1), axis=1)
    np.testing.assert_allclose(fnorms, 2.0, rtol=1e-5)
    np.testing.assert_array_equal(m[0].bias.numpy(), bias_before)
    p = nn.Parameter(fg.zeros(4))
    p.grad = fg.tensor([3.0, 4.0, 0.0, 0.0])
    total = nn.utils.clip_grad_norm_([p], 1.0)
    assert total == pytest.approx(5.0)
    np.testing.assert_allclose(p.grad.numpy(), [0.6, 0.8, 0, 0], rtol=1e-5)


def test_param_groups_without_decay():
    m = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.PReLU(), nn.Conv2d(1, 2, 3))
    decay, no_decay = nn.utils.param_groups_without_decay(m, 1e-4)
    assert decay["weight_decay"] == 1e-4 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(m[0].weight), id(m[3].weight)}
    # Linear bias, BatchNorm weight and bias, PReLU slope, conv bias.
    assert len(no_decay["params"]) == 5
