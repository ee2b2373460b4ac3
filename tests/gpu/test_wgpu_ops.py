"""Every op the MLP, CNN, BatchNorm, PReLU and dropout models use, forward and backward, on
wgpu against the CPU (see compare.py)."""

import numpy as np
import pytest

import ferrograd as fg
import ferrograd.nn.functional as F

from compare import same_on_gpu

rng = np.random.default_rng(0)


def r(*shape, lo=None):
    a = rng.standard_normal(shape).astype(np.float32)
    return np.abs(a) + lo if lo is not None else a


UNARY = {
    "neg": lambda x: -x,
    "exp": lambda x: x.exp(),
    "tanh": lambda x: x.tanh(),
    "sigmoid": lambda x: x.sigmoid(),
    "relu": lambda x: x.relu(),
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1),
    "abs": lambda x: x.abs(),
    "clamp": lambda x: x.clamp(-0.5, 0.7),
    "pow3": lambda x: x ** 3,
    "pow2": lambda x: x ** 2,
    "add_scalar": lambda x: x + 1.5,
    "mul_scalar": lambda x: x * -2.0,
    "rsub": lambda x: 1.0 - x,
    "rdiv": lambda x: 2.0 / (x * x + 1),
}


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name):
    same_on_gpu(UNARY[name], [r(5, 7)])


@pytest.mark.parametrize("name,fn", [("log", lambda x: x.log()), ("sqrt", lambda x: x.sqrt()),
                                     ("pow_frac", lambda x: x ** 1.5)])
def test_unary_positive(name, fn):
    same_on_gpu(fn, [r(4, 6, lo=0.1)])


@pytest.mark.parametrize("sa,sb", [((3, 4), (3, 4)), ((3, 4), (4,)), ((2, 1, 4), (3, 1)), ((), (2, 3)), ((5, 1), (1, 6))])
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "maximum", "minimum"])
def test_binary_broadcast(sa, sb, op):
    fns = {"add": lambda a, b: a + b, "sub": lambda a, b: a - b, "mul": lambda a, b: a * b,
           "div": lambda a, b: a / b, "maximum": fg.maximum, "minimum": fg.minimum}
    b = r(*sb, lo=0.5) if op == "div" else r(*sb)
    same_on_gpu(fns[op], [r(*sa), b])


def test_pow_tensor_exponent():
    same_on_gpu(lambda a, b: a ** b, [r(3, 4, lo=0.2), r(3, 4)])


@pytest.mark.parametrize("op", ["eq", "ne", "lt", "le", "gt", "ge"])
def test_comparisons(op):
    a = np.round(r(4, 5))
    b = np.round(r(4, 5))
    same_on_gpu(lambda x, y: getattr(x, f"__{op}__")(y), [a, b], grad=[False, False])


def test_where_and_views():
    c = (r(4, 5) > 0).astype(np.float32)
    same_on_gpu(lambda c, a, b: fg.where(c, a, b), [c, r(4, 5), r(5)], grad=[False, True, True])
    same_on_gpu(lambda x: x.T * 2, [r(3, 4)])
    same_on_gpu(lambda x: x.permute(2, 0, 1).contiguous().reshape(-1, 3), [r(3, 4, 5)])
    same_on_gpu(lambda x: x[1:, ::2] + x[0, 1::2], [r(4, 6)])
    same_on_gpu(lambda x: x[:, 2], [r(4, 6)])
    same_on_gpu(lambda x: x.unsqueeze(1).expand(4, 3, 6) * 1.0, [r(4, 6)])
    same_on_gpu(lambda x: x.flatten(1), [r(2, 3, 4)])


def test_index_rows():
    same_on_gpu(lambda x: x[[2, 0, 2, 3]] * 3.0, [r(5, 3)])


@pytest.mark.parametrize("dims,keep", [((0,), False), ((1,), True), ((0, 2), False), (None, False)])
def test_sum_mean(dims, keep):
    if dims is None:
        same_on_gpu(lambda x: x.sum(), [r(3, 4, 5)])
        same_on_gpu(lambda x: x.mean(), [r(3, 4, 5)])
    else:
        same_on_gpu(lambda x: x.sum(dims, keepdim=keep), [r(3, 4, 5)])
        same_on_gpu(lambda x: x.mean(dims, keepdim=keep), [r(3, 4, 5)])


def test_max_min_arg_var():
    x = r(6, 300)  # a row longer than one workgroup
    same_on_gpu(lambda t: t.max(1).values, [x])
    same_on_gpu(lambda t: t.min(0).values, [x])
    same_on_gpu(lambda t: t.max(), [x])
    same_on_gpu(lambda t: t.argmax(1), [x], grad=[False])
    same_on_gpu(lambda t: t.argmin(0), [x], grad=[False])
    same_on_gpu(lambda t: t.var(1), [x])


@pytest.mark.parametrize("cols", [10, 257, 1000])
def test_softmax_family(cols):
    x = r(7, cols) * 3
    same_on_gpu(lambda t: t.softmax(1), [x])
    same_on_gpu(lambda t: t.log_softmax(-1), [x])


@pytest.mark.parametrize("smoothing,ignore", [(0.0, -100), (0.1, 2)])
def test_cross_entropy(smoothing, ignore):
    y = np.array([0, 2, 1, 2, 4, 3], dtype=np.int64)
    same_on_gpu(lambda t: F.cross_entropy(t, y, label_smoothing=smoothing, ignore_index=ignore), [r(6, 5)])
    same_on_gpu(lambda t: F.cross_entropy(t, y, reduction="sum"), [r(6, 5)])


def test_other_losses():
    tgt = r(4, 3)
    same_on_gpu(lambda t: F.mse_loss(t, fg.tensor(tgt, device=t.device)), [r(4, 3)])
    p = (r(4, 3) > 0).astype(np.float32)
    same_on_gpu(lambda t: F.binary_cross_entropy_with_logits(t, fg.tensor(p, device=t.device)), [r(4, 3)])


@pytest.mark.parametrize("m,k,n", [(5, 7, 3), (64, 100, 70), (130, 33, 513), (1, 9, 1), (3, 0, 4)])
def test_matmul_shapes(m, k, n):
    same_on_gpu(lambda a, b: a @ b, [r(m, k), r(k, n)], rtol=1e-4, atol=1e-4)


def test_matmul_batched_and_transposed():
    same_on_gpu(lambda a, b: a @ b, [r(3, 5, 6), r(3, 6, 4)], atol=1e-4)
    same_on_gpu(lambda a, b: a @ b, [r(2, 3, 5, 6), r(6, 4)], atol=1e-4)
    same_on_gpu(lambda a, b: a.T @ b.T, [r(6, 5), r(4, 6)], atol=1e-4)
    same_on_gpu(lambda a, b: a @ b, [r(6), r(6, 3)], atol=1e-4)


@pytest.mark.parametrize("m,k,n", [(8, 2100, 9), (70, 2500, 33)])
def test_matmul_split_k(m, k, n):
    # Deep products with a small output are cut into slices of K whose partial products a
    # second kernel adds (the convolution weight gradients); the last slice is shorter here.
    same_on_gpu(lambda a, b: a @ b, [r(m, k), r(k, n)], rtol=1e-4, atol=1e-3)
    same_on_gpu(lambda a, b: a.T @ b, [r(k, m), r(k, n)], rtol=1e-4, atol=1e-3)
    same_on_gpu(lambda x, w, b: F.linear(x, w, b), [r(m, k), r(n, k), r(n)], rtol=1e-4, atol=1e-3)


# (bm, bn, tk, tm, tn, K slices): every tile shape the rule may pick, vec4 and scalar blocks,
# with and without slices, each on a product whose sides are not multiples of the tile.
PLANS = [(128, 128, 8, 8, 8, 1), (64, 128, 8, 8, 8, 3), (128, 64, 8, 8, 8, 1), (64, 64, 8, 8, 8, 2),
         (32, 128, 8, 4, 8, 5), (64, 64, 16, 4, 4, 1), (32, 32, 16, 2, 2, 4)]


@pytest.mark.parametrize("plan", PLANS, ids=str)
def test_matmul_forced_plans(plan):
    fg._core.wgpu_force_gemm_plan(plan)
    try:
        same_on_gpu(lambda a, b: a @ b, [r(70, 301), r(301, 133)], rtol=1e-4, atol=1e-3)
        same_on_gpu(lambda x, w, b: F.linear(x, w, b), [r(33, 200), r(17, 200), r(17)], rtol=1e-4, atol=1e-3)
        same_on_gpu(lambda a, b: a @ b, [r(3, 40, 50), r(3, 50, 20)], rtol=1e-4, atol=1e-3)
    finally:
        fg._core.wgpu_force_gemm_plan(None)


@pytest.mark.parametrize("plan", [(128, 128, 8, 8, 8, 0), (256, 256, 8, 8, 8, 1), (64, 64, 8, 5, 8, 1)])
def test_matmul_forced_plan_rejects_bad_tiles(plan):
    with pytest.raises(ValueError, match="gemm plan"):
        fg._core.wgpu_force_gemm_plan(plan)


@pytest.mark.parametrize("bias", [True, False])
def test_linear(bias):
    args = [r(9, 20), r(7, 20)] + ([r(7)] if bias else [])
    same_on_gpu(lambda x, w, *b: F.linear(x, w, b[0] if b else None), args, atol=1e-4)


@pytest.mark.parametrize("stride,padding,dilation", [(1, 0, 1), (2, 1, 1), (1, 2, 2), ((2, 1), (0, 1), 1)])
def test_conv2d(stride, padding, dilation):
    same_on_gpu(lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding, dilation=dilation),
                [r(2, 3, 9, 8), r(4, 3, 3, 3), r(4)], atol=1e-4)


def test_conv2d_deep_products_in_k_slices():
    # One image with 256 input channels: its forward product (4 × 2304 × 100) runs in slices
    # of K, its per-row bias added by the kernel that sums the slices. Six images of 2
    # channels: the weight gradient (4 × 6·400 × 18) runs in slices.
    same_on_gpu(lambda x, w, b: F.conv2d(x, w, b, padding=1), [r(1, 256, 10, 10), r(4, 256, 3, 3), r(4)],
                rtol=1e-4, atol=1e-3)
    same_on_gpu(lambda x, w, b: F.conv2d(x, w, b), [r(6, 2, 22, 22), r(4, 2, 3, 3), r(4)], rtol=1e-4, atol=1e-3)


@pytest.mark.parametrize("k,s,p", [(2, 2, 0), (3, 2, 1), (3, 1, 1)])
def test_pools(k, s, p):
    x = r(2, 3, 8, 7)
    same_on_gpu(lambda t: F.max_pool2d(t, k, s, p), [x])
    same_on_gpu(lambda t: F.avg_pool2d(t, k, s, p), [x])
    same_on_gpu(lambda t: F.avg_pool2d(t, k, s, p, count_include_pad=False), [x])


@pytest.mark.parametrize("shape", [(16, 5), (8, 3, 4, 4)])
def test_batch_norm_train_and_eval(shape):
    c = shape[1]
    for training in (True, False):
        def fn(x, w, b):
            rm = fg.zeros(c, device=x.device) + 0.1
            rv = fg.ones(c, device=x.device) * 1.5
            y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.1, eps=1e-5)
            return y * 1.0 + rm.sum() * 0 + rv.sum() * 0
        same_on_gpu(fn, [r(*shape), r(c), r(c)], atol=1e-4)


def test_batch_norm_running_stats_match():
    x = r(32, 6)
    stats = []
    for dev in ("cpu", "wgpu"):
        bn = fg.nn.BatchNorm1d(6).to(dev)
        bn(fg.tensor(x, device=dev))
        stats.append((bn.running_mean.numpy(), bn.running_var.numpy()))
    np.testing.assert_allclose(stats[1][0], stats[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats[1][1], stats[0][1], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("channels", [1, 3])
def test_prelu(channels):
    w = np.full(channels, 0.25, np.float32) + np.arange(channels, dtype=np.float32) * 0.1
    same_on_gpu(lambda x, w: F.prelu(x, w), [r(4, 3, 5, 5), w])


def test_cat_stack():
    same_on_gpu(lambda a, b: fg.cat([a, b], 1), [r(3, 2), r(3, 4)])
    same_on_gpu(lambda a, b: fg.stack([a, b], 0), [r(3, 2), r(3, 2)])


def test_dropout_on_gpu():
    fg.manual_seed(0)
    x = fg.ones(200, 500, device="wgpu", requires_grad=True)
    y = F.dropout(x, p=0.3, training=True)
    assert y.device == "wgpu"
    v = y.numpy()
    kept = v != 0
    rate = 1 - kept.mean()
    n = v.size
    assert abs(rate - 0.3) < 4 * np.sqrt(0.3 * 0.7 / n), rate
    np.testing.assert_allclose(v[kept], 1 / 0.7, rtol=1e-6)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), v)  # gradient is the mask itself
    # Different draws on the next call, and eval mode is the identity.
    assert (F.dropout(x, 0.3, True).numpy() != v).any()
    np.testing.assert_array_equal(F.dropout(x, 0.3, training=False).numpy(), np.ones((200, 500), np.float32))


def test_inplace_and_scalars():
    t = fg.tensor(r(3, 4), device="wgpu")
    v0 = t.numpy()
    t[1].fill_(2.0)
    expect = v0.copy()
    expect[1] = 2.0
    np.testing.assert_array_equal(t.numpy(), expect)
    t.copy_(fg.tensor(np.ones((3, 4), np.float32)))
    np.testing.assert_array_equal(t.numpy(), np.ones((3, 4)))
    t.zero_()
    assert t.sum().item() == 0.0
    assert fg.tensor(3.5, device="wgpu").item() == 3.5
    assert fg.tensor([[1.0, 2.0]], device="wgpu").tolist() == [[1.0, 2.0]]
