"""A run interrupted after k steps and resumed from the saved parameters, optimizer state dict and
scheduler state dict ends bit-identical to an uninterrupted run, with the state dict kept in
memory, written with numpy, or sent through JSON. load_state_dict refuses mismatched groups and
shapes."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn.functional as F
from ferrograd import optim
from ferrograd.optim import lr_scheduler

CONFIGS = [
    (optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    (optim.Adam, dict(lr=1e-2, amsgrad=True, weight_decay=1e-3)),
    (optim.AdamW, dict(lr=1e-2)),
    (optim.Adamax, dict(lr=1e-2)),
    (optim.Adagrad, dict(lr=0.05, lr_decay=0.01, initial_accumulator_value=0.1)),
    (optim.RMSprop, dict(lr=1e-3, momentum=0.5, centered=True)),
    (optim.Adadelta, dict(lr=1.0)),
]
TOTAL, K = 16, 7

rng0 = np.random.default_rng(42)
X = rng0.standard_normal((64, 5)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(np.int64)
INIT = [rng0.standard_normal((5, 8)).astype(np.float32) * 0.5, np.zeros(8, np.float32),
        rng0.standard_normal((8, 2)).astype(np.float32) * 0.5, np.zeros(2, np.float32)]


def make(cls, kwargs, values):
    params = [fg.tensor(v, requires_grad=True) for v in values]
    # Two groups, the second with its own lr, and a max-norm constraint on the first.
    opt = cls([{"params": params[:2], "max_norm": 2.0}, {"params": params[2:], "lr": kwargs["lr"] / 2}], **kwargs)
    warm = lr_scheduler.LinearLR(opt, start_factor=0.25, total_iters=4)
    decay = lr_scheduler.CosineAnnealingLR(opt, T_max=12)
    sched = lr_scheduler.SequentialLR(opt, [warm, decay], milestones=[4])
    return params, opt, sched


def train(params, opt, sched, steps, start):
    w1, b1, w2, b2 = params
    for t in range(start, start + steps):
        idx = np.arange(t * 16, t * 16 + 16) % len(X)  # a different batch each step
        logits = (fg.tensor(X[idx]) @ w1 + b1).relu() @ w2 + b2
        loss = F.cross_entropy(logits, Y[idx])
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()


def via_memory(sd):
    return sd


def via_numpy(sd):
    """State arrays through np.savez, the rest through JSON (the usual way to store both)."""
    arrays = {f"{i}/{k}": v for i, st in sd["state"].items() for k, v in st.items() if isinstance(v, np.ndarray)}
    steps = {str(i): {k: v for k, v in st.items() if not isinstance(v, np.ndarray)} for i, st in sd["state"].items()}
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    buf.seek(0)
    loaded = np.load(buf)
    meta = json.loads(json.dumps({"steps": steps, "param_groups": sd["param_groups"]}))
    state = {int(i): dict(rest) for i, rest in meta["steps"].items()}
    for key in loaded.files:
        i, k = key.split("/")
        state.setdefault(int(i), {})[k] = loaded[key]
    return {"state": state, "param_groups": meta["param_groups"]}


def via_json(sd):
    return json.loads(json.dumps(sd, default=lambda a: a.tolist()))


@pytest.mark.parametrize("cls,kwargs", CONFIGS, ids=[c[0].__name__ for c in CONFIGS])
@pytest.mark.parametrize("trip", [via_memory, via_numpy, via_json], ids=["memory", "numpy", "json"])
def test_resumed_run_is_bit_identical(cls, kwargs, trip):
    params, opt, sched = make(cls, kwargs, INIT)
    train(params, opt, sched, TOTAL, 0)
    straight = [p.numpy() for p in params]

    params, opt, sched = make(cls, kwargs, INIT)
    train(params, opt, sched, K, 0)
    saved_params = [p.numpy() for p in params]
    saved_opt = trip(opt.state_dict())
    # The scheduler's state holds no arrays: numpy-based storage keeps it as JSON.
    saved_sched = (via_json if trip is via_numpy else trip)(sched.state_dict())
    del params, opt, sched

    # A new process would do this: rebuild, then load everything.
    params, opt, sched = make(cls, kwargs, [np.zeros_like(v) for v in INIT])
    with fg.no_grad():
        for p, v in zip(params, saved_params):
            p.copy_(fg.tensor(v))
    opt.load_state_dict(saved_opt)
    sched.load_state_dict(saved_sched)
    train(params, opt, sched, TOTAL - K, K)
    for a, b in zip(straight, [p.numpy() for p in params]):
        np.testing.assert_array_equal(a, b)


def test_resuming_without_the_optimizer_state_diverges():
    """The check above can fail: dropping the state (Adam's moments and step counts) changes the
    trajectory."""
    cls, kwargs = optim.Adam, dict(lr=1e-2)
    params, opt, sched = make(cls, kwargs, INIT)
    train(params, opt, sched, TOTAL, 0)
    straight = [p.numpy() for p in params]
    params, opt, sched = make(cls, kwargs, INIT)
    train(params, opt, sched, K, 0)
    saved_sched = sched.state_dict()
    saved_params = [p.numpy() for p in params]
    params, opt, sched = make(cls, kwargs, saved_params)
    sched.load_state_dict(saved_sched)
    sched.step(sched.last_epoch)  # put the scheduled lr back, but not the moments
    train(params, opt, sched, TOTAL - K, K)
    assert any(not np.array_equal(a, p.numpy()) for a, p in zip(straight, params))


def test_state_dict_layout_is_torchs():
    params, opt, _ = make(optim.Adam, dict(lr=1e-2), INIT)
    train(params, opt, lr_scheduler.StepLR(opt, 100), 2, 0)
    sd = opt.state_dict()
    assert sorted(sd) == ["param_groups", "state"]
    assert [g["params"] for g in sd["param_groups"]] == [[0, 1], [2, 3]]
    assert sorted(sd["state"]) == [0, 1, 2, 3]
    st = sd["state"][2]
    assert st["step"] == 2 and sorted(st) == ["exp_avg", "exp_avg_sq", "step"]
    assert st["exp_avg"].dtype == np.float32 and st["exp_avg"].shape == (8, 2)
    # A copy: further steps do not change a saved dict.
    before = st["exp_avg"].copy()
    train(params, opt, lr_scheduler.StepLR(opt, 100), 1, 2)
    np.testing.assert_array_equal(st["exp_avg"], before)


def test_load_state_dict_rejects_mismatches_and_changes_nothing():
    params, opt, _ = make(optim.Adam, dict(lr=1e-2), INIT)
    train(params, opt, lr_scheduler.StepLR(opt, 100), 1, 0)
    sd = opt.state_dict()
    other = optim.Adam([fg.tensor(v, requires_grad=True) for v in INIT])
    with pytest.raises(ValueError, match="2 parameter group"):
        other.load_state_dict(sd)
    fewer = optim.Adam([{"params": [fg.tensor(v, requires_grad=True) for v in INIT[:2]]},
                        {"params": [fg.tensor(INIT[2], requires_grad=True)]}])
    with pytest.raises(ValueError, match="group 1 has 2 parameter"):
        fewer.load_state_dict(sd)
    shapes = [fg.tensor(np.zeros((5, 8), np.float32), requires_grad=True), fg.tensor(np.zeros(8, np.float32), requires_grad=True),
              fg.tensor(np.zeros((2, 8), np.float32), requires_grad=True), fg.tensor(np.zeros(2, np.float32), requires_grad=True)]
    wrong = optim.Adam([{"params": shapes[:2]}, {"params": shapes[2:]}], lr=0.5)
    with pytest.raises(ValueError, match=r"parameter 2 has shape \(8, 2\).*\(2, 8\)"):
        wrong.load_state_dict(sd)
    assert wrong.state == {} and wrong.param_groups[0]["lr"] == 0.5
    with pytest.raises(ValueError, match="'state' and 'param_groups'"):
        wrong.load_state_dict({"state": {}})


def test_a_checkpoint_lacking_a_group_key_keeps_the_current_value():
    params, opt, _ = make(optim.SGD, dict(lr=0.05, momentum=0.9), INIT)
    train(params, opt, lr_scheduler.StepLR(opt, 100), 2, 0)
    sd = opt.state_dict()
    for g in sd["param_groups"]:
        del g["max_norm"], g["nesterov"]
    params2, opt2, _ = make(optim.SGD, dict(lr=0.05, momentum=0.9), INIT)
    opt2.load_state_dict(sd)
    assert [g["max_norm"] for g in opt2.param_groups] == [2.0, None]
    assert all(g["nesterov"] is False for g in opt2.param_groups)
    np.testing.assert_array_equal(opt2.state[params2[0]]["momentum_buffer"].numpy(), sd["state"][0]["momentum_buffer"])
