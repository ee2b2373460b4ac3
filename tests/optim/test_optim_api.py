"""The Optimizer interface: parameter groups, zero_grad, closures, and clear errors for bad
arguments (from Python and from the Rust binding)."""

from __future__ import annotations

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import _core, optim

ALL = [optim.SGD, optim.Adam, optim.AdamW, optim.Adamax, optim.Adagrad, optim.RMSprop, optim.Adadelta]


def leaf(*shape):
    return fg.randn(*shape).requires_grad_()


# ---- defaults and groups ----------------------------------------------------------------------


def test_defaults_follow_torch():
    p = [leaf(2)]
    assert optim.Adam(p).defaults["lr"] == 1e-3 and optim.Adam(p).defaults["betas"] == (0.9, 0.999)
    assert optim.Adam(p).defaults["eps"] == 1e-8 and optim.Adam(p).defaults["weight_decay"] == 0
    assert optim.AdamW(p).defaults["weight_decay"] == 1e-2
    assert optim.Adamax(p).defaults["lr"] == 2e-3
    d = optim.Adagrad(p).defaults
    assert (d["lr"], d["lr_decay"], d["initial_accumulator_value"], d["eps"]) == (1e-2, 0, 0, 1e-10)
    d = optim.RMSprop(p).defaults
    assert (d["lr"], d["alpha"], d["eps"], d["momentum"], d["centered"]) == (1e-2, 0.99, 1e-8, 0, False)
    d = optim.Adadelta(p).defaults
    assert (d["lr"], d["rho"], d["eps"]) == (1.0, 0.9, 1e-6)
    d = optim.SGD(p, lr=0.1).defaults
    assert (d["momentum"], d["dampening"], d["nesterov"], d["maximize"]) == (0, 0, False, False)


def test_param_groups_take_defaults_and_overrides():
    a, b, c = leaf(2), leaf(3), leaf(4)
    opt = optim.SGD([{"params": [a, b], "lr": 0.5}, {"params": c, "momentum": 0.9}], lr=0.1)
    assert [g["lr"] for g in opt.param_groups] == [0.5, 0.1]
    assert [g["momentum"] for g in opt.param_groups] == [0.0, 0.9]
    assert opt.param_groups[1]["params"][0] is c
    d = leaf(5)
    opt.add_param_group({"params": [d], "lr": 0.01})
    assert opt.param_groups[2]["lr"] == 0.01 and opt.param_groups[2]["momentum"] == 0.0


def test_generators_are_accepted():
    ps = [leaf(2), leaf(3)]
    opt = optim.Adam(p for p in ps)
    assert len(opt.param_groups[0]["params"]) == 2


def test_step_updates_and_a_group_with_lr_zero_stays():
    a, b = leaf(3), leaf(3)
    a0, b0 = a.numpy(), b.numpy()
    opt = optim.SGD([{"params": [a]}, {"params": [b], "lr": 0.0}], lr=0.5)
    a.grad = fg.ones(3)
    b.grad = fg.ones(3)
    opt.step()
    np.testing.assert_allclose(a.numpy(), a0 - 0.5, rtol=1e-6)
    np.testing.assert_array_equal(b.numpy(), b0)


# ---- zero_grad and closures ----------------------------------------------------------------


def test_zero_grad_sets_to_none_by_default():
    p = leaf(3)
    (p * p).sum().backward()
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad()
    assert p.grad is None


def test_zero_grad_in_place():
    p = leaf(3)
    (p * p).sum().backward()
    g = p.grad
    opt = optim.SGD([p], lr=0.1)
    opt.zero_grad(set_to_none=False)
    assert p.grad is not None
    np.testing.assert_array_equal(p.grad.numpy(), np.zeros(3))
    np.testing.assert_array_equal(g.numpy(), np.zeros(3))  # the same gradient tensor, zeroed
    # Accumulation starts again from zero.
    (p * 2.0).sum().backward()
    np.testing.assert_array_equal(p.grad.numpy(), [2.0, 2.0, 2.0])


def test_closure_runs_with_grad_enabled_and_its_loss_is_returned():
    w = fg.tensor([1.0, -2.0], requires_grad=True)
    opt = optim.SGD([w], lr=0.1)
    calls = []

    def closure():
        opt.zero_grad()
        loss = (w * w).sum()
        loss.backward()
        calls.append(loss.item())
        return loss

    with fg.no_grad():
        loss = opt.step(closure)
    assert calls == [5.0] and loss.item() == 5.0
    np.testing.assert_allclose(w.numpy(), [0.8, -1.6], rtol=1e-6)
    assert opt.step() is None


# ---- errors -------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", ALL)
def test_negative_lr_is_a_value_error_naming_it(cls):
    with pytest.raises(ValueError, match=r"lr.*-0\.5"):
        cls([leaf(2)], lr=-0.5)


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW, optim.Adamax])
@pytest.mark.parametrize("betas", [(1.0, 0.999), (0.9, 1.0), (-0.1, 0.9), (0.9, 1.5)])
def test_betas_outside_unit_interval(cls, betas):
    with pytest.raises(ValueError, match="betas"):
        cls([leaf(2)], betas=betas)


@pytest.mark.parametrize("cls", [optim.Adam, optim.AdamW, optim.Adamax, optim.Adagrad, optim.RMSprop, optim.Adadelta])
def test_negative_eps(cls):
    with pytest.raises(ValueError, match=r"eps.*-1e-08"):
        cls([leaf(2)], eps=-1e-8)


def test_other_bad_hyper_parameters():
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD([leaf(2)], lr=0.1, nesterov=True)
    with pytest.raises(ValueError, match="momentum"):
        optim.SGD([leaf(2)], lr=0.1, momentum=-0.9)
    with pytest.raises(ValueError, match="weight_decay"):
        optim.Adam([leaf(2)], weight_decay=-1)
    with pytest.raises(ValueError, match="rho"):
        optim.Adadelta([leaf(2)], rho=1.1)
    with pytest.raises(ValueError, match="lr_decay"):
        optim.Adagrad([leaf(2)], lr_decay=-0.1)
    with pytest.raises(ValueError, match="max_norm"):
        optim.SGD([leaf(2)], lr=0.1, max_norm=0.0)
    with pytest.raises(TypeError, match="lr must be a number"):
        optim.Adam([leaf(2)], lr="0.1")
    with pytest.raises(TypeError, match="amsgrad must be a bool"):
        optim.Adam([leaf(2)], amsgrad=1)


def test_a_bad_value_set_after_construction_is_caught_at_step():
    p = leaf(2)
    p.grad = fg.ones(2)
    opt = optim.Adam([p])
    opt.param_groups[0]["lr"] = -1.0
    before = p.numpy()
    with pytest.raises(ValueError, match="lr"):
        opt.step()
    np.testing.assert_array_equal(p.numpy(), before)


def test_bad_params():
    with pytest.raises(TypeError, match="single Tensor"):
        optim.SGD(leaf(2), lr=0.1)
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(TypeError, match="parameter 1 .* ndarray"):
        optim.SGD([leaf(2), np.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="does not require grad"):
        optim.SGD([fg.zeros(2)], lr=0.1)
    with pytest.raises(ValueError, match="not a leaf"):
        optim.SGD([leaf(2) * 2.0], lr=0.1)
    with pytest.raises(TypeError, match="not a set"):
        optim.SGD({leaf(2)}, lr=0.1)


def test_a_param_in_two_groups_or_twice_in_one():
    p, q = leaf(2), leaf(2)
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.Adam([{"params": [p]}, {"params": [q, p]}])
    opt = optim.Adam([p])
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [p]})
    with pytest.raises(ValueError, match="twice"):
        optim.Adam([p, q, p])


def test_non_contiguous_parameter_is_refused_and_nothing_changes():
    good = leaf(3)
    bad = fg.randn(3, 4).T.detach().requires_grad_()  # a leaf, but a transposed view
    good.grad = fg.ones(3)
    bad.grad = fg.ones(4, 3)
    opt = optim.Adam([good, bad])
    g0 = good.numpy()
    with pytest.raises(ValueError, match="not contiguous"):
        opt.step()
    np.testing.assert_array_equal(good.numpy(), g0)
    assert opt.state == {}


# ---- the Rust binding's own checks (no panic reaches Python) --------------------------------


def _group(**kw):
    g = dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False)
    g.update(kw)
    return g


def test_binding_rejects_bad_kind_missing_keys_and_shapes():
    p = leaf(3)
    p.grad = fg.ones(3)
    s = [fg.zeros(3), fg.zeros(3)]
    with pytest.raises(ValueError, match="unknown optimizer kind .adamm."):
        _core.optim_step("adamm", [p], [s], _group(), [1])
    with pytest.raises(ValueError, match='lacks .eps.'):
        g = _group()
        del g["eps"]
        _core.optim_step("adam", [p], [s], g, [1])
    with pytest.raises(TypeError, match="lr"):
        _core.optim_step("adam", [p], [s], _group(lr="x"), [1])
    with pytest.raises(ValueError, match=r"exp_avg_sq.*shape \[2\]"):
        _core.optim_step("adam", [p], [[fg.zeros(3), fg.zeros(2)]], _group(), [1])
    with pytest.raises(ValueError, match="state tensor"):
        _core.optim_step("adam", [p], [[fg.zeros(3)]], _group(), [1])
    with pytest.raises(ValueError, match="1-based"):
        _core.optim_step("adam", [p], [s], _group(), [0])
    with pytest.raises(ValueError, match="2 step counts|1 state lists"):
        _core.optim_step("adam", [p], [s], _group(), [1, 2])
    with pytest.raises(ValueError, match="betas"):
        _core.optim_step("adam", [p], [s], _group(betas=(0.9, 1.0)), [1])
    with pytest.raises(ValueError, match="shares memory"):
        _core.optim_step("adam", [p], [[p.detach(), fg.zeros(3)]], _group(), [1])
    q = leaf(3)
    with pytest.raises(ValueError, match="no gradient"):
        _core.optim_step("sgd", [q], [[]], dict(lr=0.1, momentum=0.0, dampening=0.0, weight_decay=0.0), [1])
    np.testing.assert_array_equal(s[0].numpy(), np.zeros(3))


def test_binding_updates_in_place_and_bumps_the_version_counter():
    # A tensor saved for backward and then updated by the optimizer is detected by autograd.
    w = fg.tensor([1.0, 2.0], requires_grad=True)
    y = (w * w).sum()
    w.grad = fg.ones(2)
    _core.optim_step("sgd", [w], [[]], dict(lr=0.5, momentum=0.0, dampening=0.0, weight_decay=0.0), [1])
    np.testing.assert_allclose(w.numpy(), [0.5, 1.5])
    with pytest.raises(RuntimeError):
        y.backward()
