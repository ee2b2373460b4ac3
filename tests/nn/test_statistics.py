"""Statistical properties the papers rely on: dropout's expectation and rate, BatchNorm's
normalisation and running statistics, He initialisation's scale and signal propagation."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ferrograd as fg
from ferrograd import nn


@pytest.mark.parametrize("p", [0.2, 0.5, 0.8])
def test_dropout_keeps_expectation_and_drop_rate_within_4_sigma(p):
    fg.manual_seed(11)
    n = 200_000
    x = fg.ones(n)
    y = nn.Dropout(p)(x).numpy()
    dropped = (y == 0).mean()
    sigma = math.sqrt(p * (1 - p) / n)
    assert abs(dropped - p) < 4 * sigma, (dropped, p)
    # E[y] = x: survivors are scaled by 1/(1-p). Std of the mean of y: √(p/(1-p)/n).
    assert abs(y.mean() - 1.0) < 4 * math.sqrt(p / (1 - p) / n)


def test_dropout_identity_in_eval_and_reproducible():
    d = nn.Dropout(0.5)
    x = fg.randn(100)
    fg.manual_seed(1)
    a = d(x).numpy()
    fg.manual_seed(1)
    b = d(x).numpy()
    np.testing.assert_array_equal(a, b)
    d.eval()
    np.testing.assert_array_equal(d(x).numpy(), x.numpy())
    assert nn.Dropout(0.0)(x) is x or np.array_equal(nn.Dropout(0.0)(x).numpy(), x.numpy())


def test_batchnorm_training_output_is_standardised_per_feature(rng):
    bn = nn.BatchNorm1d(5)
    x = rng.standard_normal((256, 5)) * np.array([1, 5, 0.1, 3, 10]) + np.array([0, -4, 7, 2, 100])
    y = bn(fg.tensor(x)).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-4)
    np.testing.assert_allclose(y.var(axis=0), 1, atol=2e-3)
    bn2 = nn.BatchNorm2d(3)
    x2 = rng.standard_normal((8, 3, 5, 5)) * 4 + 2
    y2 = bn2(fg.tensor(x2)).numpy()
    np.testing.assert_allclose(y2.mean(axis=(0, 2, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(y2.var(axis=(0, 2, 3)), 1, atol=2e-3)


def test_batchnorm_running_statistics_converge_to_population(rng):
    bn = nn.BatchNorm1d(3, momentum=0.1)
    mean, std = np.array([2.0, -1.0, 0.5]), np.array([3.0, 0.5, 1.0])
    for _ in range(300):
        bn(fg.tensor(rng.standard_normal((64, 3)) * std + mean))
    np.testing.assert_allclose(bn.running_mean.numpy(), mean, atol=0.1 * std.max())
    np.testing.assert_allclose(bn.running_var.numpy(), std ** 2, rtol=0.15)
    assert bn.num_batches_tracked.item() == 300


def test_batchnorm_running_var_is_unbiased_after_one_step(rng):
    bn = nn.BatchNorm1d(2, momentum=1.0)
    x = rng.standard_normal((4, 2))
    bn(fg.tensor(x))
    np.testing.assert_allclose(bn.running_var.numpy(), x.var(axis=0, ddof=1), rtol=1e-4)
    np.testing.assert_allclose(bn.running_mean.numpy(), x.mean(axis=0), rtol=1e-4, atol=1e-6)


def test_batchnorm_eval_output_does_not_depend_on_the_batch(rng):
    bn = nn.BatchNorm1d(4)
    for _ in range(20):
        bn(fg.tensor(rng.standard_normal((32, 4)) * 2 + 1))
    bn.eval()
    example = rng.standard_normal((1, 4))
    alone = bn(fg.tensor(example)).numpy()[0]
    in_batch = bn(fg.tensor(np.concatenate([example, rng.standard_normal((15, 4)) * 10]))).numpy()[0]
    np.testing.assert_allclose(alone, in_batch, rtol=1e-6)
    bn.train()
    in_batch_train = bn(fg.tensor(np.concatenate([example, rng.standard_normal((15, 4)) * 10]))).numpy()[0]
    assert not np.allclose(alone, in_batch_train)


def test_batchnorm_without_tracking_uses_batch_statistics_in_eval(rng):
    bn = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    y = bn(fg.tensor(rng.standard_normal((50, 2)) * 3 + 5)).numpy()
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-4)
    assert bn.running_mean is None and list(bn.parameters()) == []


def test_he_init_std_within_2_percent():
    fg.manual_seed(0)
    w = fg.empty(1024, 2048)
    nn.init.kaiming_normal_(w, mode="fan_in", nonlinearity="relu")
    assert abs(w.numpy().std() / math.sqrt(2 / 2048) - 1) < 0.02
    c = fg.empty(256, 64, 5, 5)
    nn.init.kaiming_normal_(c, mode="fan_out", nonlinearity="relu")
    assert abs(c.numpy().std() / math.sqrt(2 / (256 * 25)) - 1) < 0.02
    nn.init.kaiming_uniform_(w, nonlinearity="relu")
    assert abs(w.numpy().std() / math.sqrt(2 / 2048) - 1) < 0.02
    nn.init.xavier_normal_(w)
    assert abs(w.numpy().std() / math.sqrt(2 / (1024 + 2048)) - 1) < 0.02
    nn.init.xavier_uniform_(w, gain=2.0)
    assert abs(w.numpy().std() / (2.0 * math.sqrt(2 / (1024 + 2048))) - 1) < 0.02
    prelu_std = nn.init.calculate_gain("leaky_relu", 0.25) / math.sqrt(2048)
    assert prelu_std == pytest.approx(math.sqrt(2 / ((1 + 0.25 ** 2) * 2048)))


def _variance_ratio_through_relu_stack(std_fn, depth=30, width=256, n=512, seed=0):
    fg.manual_seed(seed)
    x = fg.randn(n, width)
    h = x
    with fg.no_grad():
        for _ in range(depth):
            w = fg.empty(width, width).normal_(0.0, std_fn(width))
            h = (h @ w.T).relu()
    return float(h.numpy().var() / x.numpy().var())


def test_signal_propagation_30_layer_relu_he_versus_one_over_n():
    he = _variance_ratio_through_relu_stack(lambda n: math.sqrt(2 / n))
    small = _variance_ratio_through_relu_stack(lambda n: math.sqrt(1 / n))
    # He keeps the variance within 4× of the input's; √(1/n) halves it per layer (2^-30).
    assert 0.25 < he < 4.0, he
    assert small < 2.0 ** -20, small


def test_calculate_gain_and_fans():
    assert nn.init.calculate_gain("relu") == pytest.approx(math.sqrt(2))
    assert nn.init.calculate_gain("tanh") == pytest.approx(5 / 3)
    assert nn.init.calculate_gain("linear") == 1.0
    assert nn.init._calculate_fan_in_and_fan_out(fg.zeros(3, 4, 5, 5)) == (100, 75)
    with pytest.raises(ValueError, match="nonlinearity"):
        nn.init.calculate_gain("swish")
    with pytest.raises(ValueError, match="fewer than 2"):
        nn.init.kaiming_normal_(fg.zeros(5))
    with pytest.raises(ValueError, match="mode"):
        nn.init.kaiming_normal_(fg.zeros(5, 5), mode="fan_avg")


def test_default_linear_and_conv_init_match_torch_bounds():
    fg.manual_seed(0)
    lin = nn.Linear(400, 50)
    bound = 1 / math.sqrt(400)
    w = lin.weight.numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.95 * bound
    assert np.abs(lin.bias.numpy()).max() <= bound
    conv = nn.Conv2d(8, 16, 3)
    cb = 1 / math.sqrt(8 * 9)
    assert np.abs(conv.weight.numpy()).max() <= cb and np.abs(conv.weight.numpy()).max() > 0.9 * cb
