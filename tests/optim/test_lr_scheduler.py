"""Learning-rate schedules match their closed forms; momentum schedules ramp the momentum (and
the optimizer really uses the scheduled value)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import optim
from ferrograd.optim import lr_scheduler as S

EPOCHS = 40


def lrs(opt, sched, n=EPOCHS):
    """The lr in force at epochs 0..n-1 (read from the optimizer, as a step would use it)."""
    out = []
    for _ in range(n):
        out.append([g["lr"] for g in opt.param_groups])
        assert sched.get_last_lr() == out[-1]
        opt.step()
        sched.step()
    return np.array(out)


def two_groups(lr=0.1, **kw):
    return optim.SGD([{"params": [fg.zeros(2, requires_grad=True)]},
                      {"params": [fg.zeros(2, requires_grad=True)], "lr": 2 * lr}], lr=lr, **kw)


def expected(f):
    return np.array([[f(e, 0.1), f(e, 0.2)] for e in range(EPOCHS)])


def test_step_lr():
    opt = two_groups()
    got = lrs(opt, S.StepLR(opt, step_size=7, gamma=0.5))
    np.testing.assert_allclose(got, expected(lambda e, b: b * 0.5 ** (e // 7)), rtol=1e-12)


def test_multistep_lr():
    opt = two_groups()
    got = lrs(opt, S.MultiStepLR(opt, milestones=[25, 5, 12], gamma=0.3))
    np.testing.assert_allclose(got, expected(lambda e, b: b * 0.3 ** sum(e >= m for m in (5, 12, 25))), rtol=1e-12)


def test_exponential_lr():
    opt = two_groups()
    got = lrs(opt, S.ExponentialLR(opt, gamma=0.9))
    np.testing.assert_allclose(got, expected(lambda e, b: b * 0.9 ** e), rtol=1e-12)


def test_cosine_annealing_lr():
    opt = two_groups()
    got = lrs(opt, S.CosineAnnealingLR(opt, T_max=30, eta_min=0.01))
    np.testing.assert_allclose(got, expected(lambda e, b: 0.01 + (b - 0.01) * (1 + math.cos(math.pi * e / 30)) / 2), rtol=1e-12)
    assert got[30, 0] == pytest.approx(0.01)


def test_lambda_lr_gives_adams_alpha_over_sqrt_t():
    opt = two_groups()
    got = lrs(opt, S.LambdaLR(opt, lambda e: 1 / math.sqrt(e + 1)))
    np.testing.assert_allclose(got, expected(lambda e, b: b / math.sqrt(e + 1)), rtol=1e-12)


def test_lambda_lr_per_group():
    opt = two_groups()
    got = lrs(opt, S.LambdaLR(opt, [lambda e: 0.5 ** e, lambda e: e + 1]))
    np.testing.assert_allclose(got[:, 0], [0.1 * 0.5 ** e for e in range(EPOCHS)], rtol=1e-12)
    np.testing.assert_allclose(got[:, 1], [0.2 * (e + 1) for e in range(EPOCHS)], rtol=1e-12)


def test_linear_lr_warm_up():
    opt = two_groups()
    got = lrs(opt, S.LinearLR(opt, start_factor=0.1, end_factor=1.0, total_iters=10))
    np.testing.assert_allclose(got, expected(lambda e, b: b * (0.1 + 0.9 * min(e, 10) / 10)), rtol=1e-12)


def test_sequential_warm_up_then_cosine_decay():
    opt = two_groups()
    warm = S.LinearLR(opt, start_factor=0.2, total_iters=5)
    decay = S.CosineAnnealingLR(opt, T_max=30)
    sched = S.SequentialLR(opt, [warm, decay], milestones=[5])
    got = lrs(opt, sched)

    def f(e, b):
        if e < 5:
            return b * (0.2 + 0.8 * e / 5)
        return b * (1 + math.cos(math.pi * (e - 5) / 30)) / 2

    np.testing.assert_allclose(got, expected(f), rtol=1e-12)
    # The peak is reached exactly at the milestone.
    assert got[5, 0] == pytest.approx(0.1)


def test_scheduler_state_dict_resumes_the_schedule():
    opt = two_groups()
    sched = S.StepLR(opt, step_size=3, gamma=0.5)
    for _ in range(7):
        opt.step()
        sched.step()
    sd, osd = sched.state_dict(), opt.state_dict()
    opt2 = two_groups()
    sched2 = S.StepLR(opt2, step_size=99, gamma=0.9)
    opt2.load_state_dict(osd)
    sched2.load_state_dict(sd)
    for _ in range(5):
        opt.step(), sched.step(), opt2.step(), sched2.step()
    assert sched2.get_last_lr() == sched.get_last_lr() == [0.1 * 0.5 ** 4, 0.2 * 0.5 ** 4]


def test_scheduler_errors():
    opt = two_groups()
    with pytest.raises(ValueError, match="step_size"):
        S.StepLR(opt, step_size=0)
    with pytest.raises(ValueError, match="start_factor"):
        S.LinearLR(opt, start_factor=0.0)
    with pytest.raises(ValueError, match="T_max"):
        S.CosineAnnealingLR(opt, T_max=-3)
    with pytest.raises(TypeError, match="Optimizer"):
        S.StepLR(object(), step_size=2)
    with pytest.raises(ValueError, match="milestone"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(opt, 3)], milestones=[])
    with pytest.raises(ValueError, match="another optimizer"):
        S.SequentialLR(opt, [S.StepLR(opt, 2), S.StepLR(two_groups(), 3)], milestones=[4])
    with pytest.raises(KeyError, match="initial_lr"):
        S.StepLR(two_groups(), 2, last_epoch=5)
    with pytest.raises(ValueError, match="neither 'momentum' nor 'betas'"):
        S.LinearMomentum(optim.Adagrad([fg.zeros(2, requires_grad=True)]), total_iters=3)


# ---- momentum ----------------------------------------------------------------------------


def test_linear_momentum_ramp_for_sgd_is_used_by_the_update():
    """The dropout paper's ramp 0.5 → 0.99; each step uses the momentum scheduled for it."""
    rng = np.random.default_rng(0)
    p0 = rng.standard_normal(4).astype(np.float32)
    p = fg.tensor(p0, requires_grad=True)
    opt = optim.SGD([p], lr=0.01, momentum=0.9)
    sched = S.LinearMomentum(opt, start_momentum=0.5, end_momentum=0.99, total_iters=10)
    ref, buf, seen = p0.astype(np.float64), None, []
    for e in range(15):
        mu = 0.5 + 0.49 * min(e, 10) / 10
        assert opt.param_groups[0]["momentum"] == pytest.approx(mu)
        seen.append(sched.get_last_momentum()[0])
        g = rng.standard_normal(4).astype(np.float32)
        p.grad = fg.tensor(g)
        opt.step()
        sched.step()
        buf = g.astype(np.float64) if buf is None else mu * buf + g
        ref = ref - 0.01 * buf
    np.testing.assert_allclose(p.numpy(), ref, rtol=1e-5)
    assert seen[0] == 0.5 and seen[10] == pytest.approx(0.99) and seen[14] == pytest.approx(0.99)
    assert all(b > a for a, b in zip(seen[:10], seen[1:11]))


def test_lambda_momentum_sets_adams_beta1_and_keeps_beta2():
    p = fg.zeros(3, requires_grad=True)
    opt = optim.Adam([p], betas=(0.9, 0.995))
    sched = S.LambdaMomentum(opt, lambda e: min(0.5 + 0.1 * e, 0.95))
    got = []
    for e in range(8):
        got.append(opt.param_groups[0]["betas"])
        p.grad = fg.ones(3)
        opt.step()
        sched.step()
    assert [b[0] for b in got] == pytest.approx([0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.95, 0.95])
    assert all(b[1] == 0.995 for b in got)
    assert opt.param_groups[0]["initial_momentum"] == 0.9


def test_momentum_ramp_from_zero_creates_the_sgd_buffer_when_it_starts():
    p = fg.zeros(1, requires_grad=True)
    opt = optim.SGD([p], lr=1.0, momentum=0.0)
    sched = S.LambdaMomentum(opt, lambda e: 0.0 if e < 2 else 0.5)
    for _ in range(4):
        p.grad = fg.ones(1)
        opt.step()
        sched.step()
    # Steps of 1, 1, then a fresh buffer b = g = 1 (torch's first-step rule), then b = 0.5 + 1.
    np.testing.assert_allclose(p.numpy(), [-(1 + 1 + 1 + 1.5)], rtol=1e-6)
