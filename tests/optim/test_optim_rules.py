"""Each optimizer follows torch.optim's documented update rule: a float64 numpy implementation of
the rule, written here independently of the Rust kernels, and ferrograd agree over 100 steps of
random gradients, for several settings of each optimizer's options.

The parameters include one tensor above the kernels' parallel threshold (2**15 elements), so
both the serial and the rayon paths are checked.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import optim

SHAPES = [(6, 5), (3,), (33000,)]
STEPS = 100


# ---- float64 references, one per algorithm (torch.optim's pseudo-code) -----------------------
# Each takes the list of parameter arrays, a list (over steps) of lists of gradients, and the
# hyper-parameters, and returns the final parameters.


def ref_sgd(ps, grads, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False):
    out = []
    for k, p in enumerate(ps):
        p, b = p.astype(np.float64), None
        for gs in grads:
            g = gs[k].astype(np.float64)
            # torch's implementation negates first (its pseudo-code adds γg at the end; the two
            # agree whenever weight_decay = 0).
            if maximize:
                g = -g
            if weight_decay != 0:
                g = g + weight_decay * p
            if momentum != 0:
                b = g.copy() if b is None else momentum * b + (1 - dampening) * g
                g = g + momentum * b if nesterov else b
            p = p - lr * g
        out.append(p)
    return out


def ref_adam(ps, grads, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
             maximize=False, decoupled=False):
    b1, b2 = betas
    out = []
    for k, p in enumerate(ps):
        p = p.astype(np.float64)
        m = np.zeros_like(p)
        v = np.zeros_like(p)
        vmax = np.zeros_like(p)
        for t, gs in enumerate(grads, start=1):
            g = gs[k].astype(np.float64)
            if maximize:
                g = -g
            if decoupled:
                p = p * (1 - lr * weight_decay)
            elif weight_decay != 0:
                g = g + weight_decay * p
            m = b1 * m + (1 - b1) * g
            v = b2 * v + (1 - b2) * g * g
            mhat = m / (1 - b1 ** t)
            if amsgrad:
                vmax = np.maximum(vmax, v)
                vhat = vmax / (1 - b2 ** t)
            else:
                vhat = v / (1 - b2 ** t)
            p = p - lr * mhat / (np.sqrt(vhat) + eps)
        out.append(p)
    return out


def ref_adamax(ps, grads, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, maximize=False):
    b1, b2 = betas
    out = []
    for k, p in enumerate(ps):
        p = p.astype(np.float64)
        m = np.zeros_like(p)
        u = np.zeros_like(p)
        for t, gs in enumerate(grads, start=1):
            g = gs[k].astype(np.float64)
            if maximize:
                g = -g
            if weight_decay != 0:
                g = g + weight_decay * p
            m = b1 * m + (1 - b1) * g
            u = np.maximum(b2 * u, np.abs(g) + eps)
            p = p - lr * m / ((1 - b1 ** t) * u)
        out.append(p)
    return out


def ref_adagrad(ps, grads, lr=1e-2, lr_decay=0.0, weight_decay=0.0, initial_accumulator_value=0.0,
                eps=1e-10, maximize=False):
    out = []
    for k, p in enumerate(ps):
        p = p.astype(np.float64)
        s = np.full_like(p, initial_accumulator_value)
        for t, gs in enumerate(grads, start=1):
            g = gs[k].astype(np.float64)
            if maximize:
                g = -g
            clr = lr / (1 + (t - 1) * lr_decay)
            if weight_decay != 0:
                g = g + weight_decay * p
            s = s + g * g
            p = p - clr * g / (np.sqrt(s) + eps)
        out.append(p)
    return out


def ref_rmsprop(ps, grads, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0.0, momentum=0.0,
                centered=False, maximize=False):
    out = []
    for k, p in enumerate(ps):
        p = p.astype(np.float64)
        v = np.zeros_like(p)
        gavg = np.zeros_like(p)
        b = np.zeros_like(p)
        for gs in grads:
            g = gs[k].astype(np.float64)
            if maximize:
                g = -g
            if weight_decay != 0:
                g = g + weight_decay * p
            v = alpha * v + (1 - alpha) * g * g
            vt = v
            if centered:
                gavg = alpha * gavg + (1 - alpha) * g
                vt = vt - gavg * gavg
            if momentum > 0:
                b = momentum * b + g / (np.sqrt(vt) + eps)
                p = p - lr * b
            else:
                p = p - lr * g / (np.sqrt(vt) + eps)
        out.append(p)
    return out


def ref_adadelta(ps, grads, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0.0, maximize=False):
    out = []
    for k, p in enumerate(ps):
        p = p.astype(np.float64)
        v = np.zeros_like(p)
        u = np.zeros_like(p)
        for gs in grads:
            g = gs[k].astype(np.float64)
            if maximize:
                g = -g
            if weight_decay != 0:
                g = g + weight_decay * p
            v = rho * v + (1 - rho) * g * g
            delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
            u = rho * u + (1 - rho) * delta * delta
            p = p - lr * delta
        out.append(p)
    return out


# ---- the cases -----------------------------------------------------------------------------

CASES = [
    # (optimizer class, keyword arguments, reference, reference keyword arguments)
    (optim.SGD, dict(lr=0.01), ref_sgd, dict(lr=0.01)),
    (optim.SGD, dict(lr=0.01, momentum=0.9), ref_sgd, dict(lr=0.01, momentum=0.9)),
    (optim.SGD, dict(lr=0.01, momentum=0.9, dampening=0.3, weight_decay=0.05), ref_sgd,
     dict(lr=0.01, momentum=0.9, dampening=0.3, weight_decay=0.05)),
    (optim.SGD, dict(lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.01), ref_sgd,
     dict(lr=0.01, momentum=0.8, nesterov=True, weight_decay=0.01)),
    (optim.SGD, dict(lr=0.01, momentum=0.5, weight_decay=0.1, maximize=True), ref_sgd,
     dict(lr=0.01, momentum=0.5, weight_decay=0.1, maximize=True)),
    (optim.Adam, dict(), ref_adam, dict()),
    (optim.Adam, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1), ref_adam,
     dict(lr=0.01, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1)),
    (optim.Adam, dict(lr=0.01, amsgrad=True), ref_adam, dict(lr=0.01, amsgrad=True)),
    (optim.Adam, dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True), ref_adam,
     dict(lr=0.01, amsgrad=True, weight_decay=0.05, maximize=True)),
    (optim.AdamW, dict(lr=0.01), ref_adam, dict(lr=0.01, weight_decay=1e-2, decoupled=True)),
    (optim.AdamW, dict(lr=0.01, weight_decay=0.3, amsgrad=True, betas=(0.5, 0.9)), ref_adam,
     dict(lr=0.01, weight_decay=0.3, amsgrad=True, betas=(0.5, 0.9), decoupled=True)),
    (optim.Adamax, dict(), ref_adamax, dict()),
    (optim.Adamax, dict(lr=0.01, betas=(0.7, 0.95), eps=1e-2, weight_decay=0.1), ref_adamax,
     dict(lr=0.01, betas=(0.7, 0.95), eps=1e-2, weight_decay=0.1)),
    (optim.Adagrad, dict(), ref_adagrad, dict()),
    (optim.Adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-3),
     ref_adagrad, dict(lr=0.1, lr_decay=0.05, weight_decay=0.1, initial_accumulator_value=0.5, eps=1e-3)),
    (optim.RMSprop, dict(), ref_rmsprop, dict()),
    (optim.RMSprop, dict(lr=1e-3, alpha=0.9, centered=True), ref_rmsprop, dict(lr=1e-3, alpha=0.9, centered=True)),
    (optim.RMSprop, dict(lr=1e-3, momentum=0.9, weight_decay=0.1, eps=1e-2), ref_rmsprop,
     dict(lr=1e-3, momentum=0.9, weight_decay=0.1, eps=1e-2)),
    (optim.RMSprop, dict(lr=1e-3, momentum=0.5, centered=True, maximize=True), ref_rmsprop,
     dict(lr=1e-3, momentum=0.5, centered=True, maximize=True)),
    (optim.Adadelta, dict(), ref_adadelta, dict()),
    (optim.Adadelta, dict(lr=0.5, rho=0.95, eps=1e-4, weight_decay=0.1), ref_adadelta,
     dict(lr=0.5, rho=0.95, eps=1e-4, weight_decay=0.1)),
]


def _case_id(case):
    cls, kw = case[0], case[1]
    return cls.__name__ + ("-" + ",".join(f"{k}={v}" for k, v in kw.items()) if kw else "-defaults")


def random_problem(seed: int):
    rng = np.random.default_rng(seed)
    ps = [rng.standard_normal(s).astype(np.float32) for s in SHAPES]
    # Per-element scales over four decades, so rules that normalise by gradient size are
    # exercised away from the unit scale.
    scales = [10.0 ** rng.uniform(-2, 2, size=s) for s in SHAPES]
    grads = [[(rng.standard_normal(s) * sc).astype(np.float32) for s, sc in zip(SHAPES, scales)] for _ in range(STEPS)]
    return ps, grads


def run_ferrograd(cls, kwargs, ps, grads):
    params = [fg.tensor(p, requires_grad=True) for p in ps]
    opt = cls(params, **kwargs)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = fg.tensor(g)
        opt.step()
    return [p.numpy() for p in params]


def assert_close(got, ref, what):
    # 1e-5 relative to each parameter tensor's scale (an element that passes near zero would
    # make a purely elementwise relative error meaningless).
    for k, (a, b) in enumerate(zip(got, ref)):
        err = np.max(np.abs(a.astype(np.float64) - b)) / np.max(np.abs(b))
        assert err < 1e-5, f"{what}: parameter {k} differs from the float64 rule by {err:.2e} (relative)"


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_matches_float64_reference_over_100_steps(case):
    cls, kwargs, ref, ref_kwargs = case
    ps, grads = random_problem(seed=len(_case_id(case)))
    got = run_ferrograd(cls, kwargs, ps, grads)
    want = ref(ps, grads, **ref_kwargs)
    assert_close(got, want, _case_id(case))
    # The parameters really moved (a no-op optimizer would fail here, not pass by accident).
    moved = max(np.max(np.abs(g - p)) for g, p in zip(got, ps))
    assert moved > 1e-3


def test_reference_distinguishes_the_options():
    """The settings above are far enough apart that a wrong option would be caught: e.g. Adam's
    ε outside vs inside the root, or SGD's dampening ignored, move the result well beyond 1e-5."""
    ps, grads = random_problem(seed=7)
    a = ref_adam(ps, grads, lr=0.01, eps=1e-3)
    b = ref_adam(ps, grads, lr=0.01, eps=1e-6)
    assert max(np.max(np.abs(x - y)) / np.max(np.abs(y)) for x, y in zip(a, b)) > 1e-3
    got = run_ferrograd(optim.SGD, dict(lr=0.01, momentum=0.9, dampening=0.3), ps, grads)
    without = ref_sgd(ps, grads, lr=0.01, momentum=0.9)
    assert max(np.max(np.abs(x - y)) / np.max(np.abs(y)) for x, y in zip(got, without)) > 1e-3


def test_groups_use_their_own_hyper_parameters():
    ps, grads = random_problem(seed=3)
    params = [fg.tensor(p, requires_grad=True) for p in ps]
    opt = optim.Adam([{"params": params[:2], "lr": 0.05, "amsgrad": True}, {"params": params[2:]}], lr=0.01)
    for gs in grads:
        for p, g in zip(params, gs):
            p.grad = fg.tensor(g)
        opt.step()
    want01 = ref_adam(ps[:2], [g[:2] for g in grads], lr=0.05, amsgrad=True)
    want2 = ref_adam(ps[2:], [g[2:] for g in grads], lr=0.01)
    assert_close([p.numpy() for p in params], want01 + want2, "two groups")


def test_parameters_without_gradient_are_skipped_and_keep_their_step_count():
    a = fg.tensor([1.0, 2.0], requires_grad=True)
    b = fg.tensor([3.0, 4.0], requires_grad=True)
    opt = optim.Adam([a, b], lr=0.1)
    a.grad = fg.tensor([1.0, -1.0])
    opt.step()
    assert b not in opt.state and opt.state[a]["step"] == 1
    np.testing.assert_array_equal(b.numpy(), [3.0, 4.0])
    b.grad = fg.tensor([1.0, 1.0])
    a.grad = None
    opt.step()
    assert opt.state[a]["step"] == 1 and opt.state[b]["step"] == 1
    # b's first step is bias-corrected as a first step: exactly lr·sign(g).
    np.testing.assert_allclose(b.numpy(), [2.9, 3.9], rtol=1e-6)


# ---- Adam's and Adamax's properties from the paper ------------------------------------------


def test_adam_first_step_is_lr_times_sign_of_gradient():
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(1000).astype(np.float32)
    # Gradients spanning six decades: the first step ignores their size.
    g = (rng.choice([-1.0, 1.0], 1000) * 10.0 ** rng.uniform(-2, 4, 1000)).astype(np.float32)
    p = fg.tensor(p0, requires_grad=True)
    lr = 0.01
    opt = optim.Adam([p], lr=lr)
    p.grad = fg.tensor(g)
    opt.step()
    step = p.numpy().astype(np.float64) - p0
    np.testing.assert_allclose(step, -lr * np.sign(g), rtol=1e-4)


def test_adam_without_bias_correction_would_take_a_100x_first_step():
    """Kingma & Ba §3/§6.4: with β2 = 0.9999 (and β1 = 0), the uncorrected first step
    m/(√v + ε) = g/(√(1−β2)·|g|) is 1/√(1−β2) = 100 times the corrected one (γ·sign(g))."""
    rng = np.random.default_rng(1)
    # |g| >= 0.1, so that ε (1e-8) is negligible next to √v = 0.01·|g|.
    g = (rng.choice([-1.0, 1.0], 500) * 10.0 ** rng.uniform(-1, 2, 500)).astype(np.float32)
    p0 = np.zeros(500, np.float32)
    p = fg.tensor(p0, requires_grad=True)
    lr = 1e-3
    opt = optim.Adam([p], lr=lr, betas=(0.0, 0.9999))
    p.grad = fg.tensor(g)
    opt.step()
    corrected = p.numpy().astype(np.float64) - p0
    st = opt.state_dict()["state"][0]
    m, v = st["exp_avg"].astype(np.float64), st["exp_avg_sq"].astype(np.float64)
    # The moments the optimizer holds are the uncorrected ones: m = g, v = (1−β2)g².
    np.testing.assert_allclose(m, g, rtol=1e-6)
    np.testing.assert_allclose(v, 1e-4 * g.astype(np.float64) ** 2, rtol=1e-5)
    uncorrected = -lr * m / (np.sqrt(v) + 1e-8)
    np.testing.assert_allclose(corrected, -lr * np.sign(g), rtol=1e-4)
    ratio = np.abs(uncorrected) / np.abs(corrected)
    np.testing.assert_allclose(ratio, 100.0, rtol=1e-3)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_adamax_steps_never_exceed_lr(seed):
    rng = np.random.default_rng(seed)
    n, lr = 2000, 2e-3
    p = fg.zeros(n, requires_grad=True)
    opt = optim.Adamax([p], lr=lr)
    prev = p.numpy().astype(np.float64)
    biggest = 0.0
    # Heavy-tailed streams whose scale drifts over time: the hardest case for a bound.
    drift = 10.0 ** rng.uniform(-3, 3, n)
    for t in range(300):
        g = rng.standard_cauchy(n) * drift * 10.0 ** (2 * math.sin(t / 17))
        p.grad = fg.tensor(g.astype(np.float32))
        opt.step()
        cur = p.numpy().astype(np.float64)
        biggest = max(biggest, float(np.max(np.abs(cur - prev))))
        prev = cur
    assert biggest <= lr * (1 + 1e-3), biggest
    # The bound is attained (the first step is lr·sign(g)), so the check is not vacuous.
    assert biggest >= lr * 0.99, biggest
