from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pytest

from ferrograd.search import Choice, IntLogUniform, IntUniform, LogUniform, Space, Uniform
from ferrograd.search.space import Dimension


def test_uniform_maps_unit_interval_linearly():
    d = Uniform(-2.0, 6.0)
    assert d.from_unit(0.0) == -2.0
    assert d.from_unit(0.25) == 0.0
    assert d.from_unit(1.0) == 6.0
    assert d.to_unit(2.0) == 0.5


def test_loguniform_is_uniform_in_log_space():
    d = LogUniform(1e-4, 1.0)
    assert d.from_unit(0.5) == pytest.approx(1e-2)
    assert d.to_unit(1e-3) == pytest.approx(0.25)
    x = np.array([d.from_unit(u) for u in np.random.default_rng(0).random(20000)])
    # a quarter of the mass per decade
    frac = np.histogram(np.log10(x), bins=[-4, -3, -2, -1, 0])[0] / len(x)
    np.testing.assert_allclose(frac, 0.25, atol=0.015)


def test_int_uniform_gives_each_integer_equal_mass_and_round_trips():
    d = IntUniform(3, 7)
    u = (np.arange(50000) + 0.5) / 50000
    counts = np.bincount([d.from_unit(x) for x in u])[3:]
    np.testing.assert_array_equal(counts, [10000] * 5)
    for k in range(3, 8):
        assert d.from_unit(d.to_unit(k)) == k
    assert isinstance(d.from_unit(0.3), int)


def test_int_log_uniform_probabilities_are_log_ratios():
    d = IntLogUniform(1, 8)
    u = (np.arange(90000) + 0.5) / 90000
    counts = np.bincount([d.from_unit(x) for x in u], minlength=9)[1:] / len(u)
    expected = [math.log((k + 1) / k) / math.log(9) for k in range(1, 9)]
    np.testing.assert_allclose(counts, expected, atol=1e-3)
    for k in range(1, 9):
        assert d.from_unit(d.to_unit(k)) == k
    edges = d.cell_edges()
    assert edges[0] == 0.0 and edges[-1] == 1.0 and np.all(np.diff(edges) > 0)


def test_choice_cells_and_bool_int_kept_apart():
    d = Choice([False, True, 0, "a", None])
    assert [d.from_unit((i + 0.5) / 5) for i in range(5)] == [False, True, 0, "a", None]
    assert d.index(True) == 1 and d.index(0) == 2
    assert d.to_unit("a") == pytest.approx(0.7)
    with pytest.raises(ValueError, match="not one of the options"):
        d.index("b")


@pytest.mark.parametrize("make, match", [
    (lambda: Uniform(1.0, 1.0), "low < high"),
    (lambda: Uniform(2.0, 1.0), "low < high"),
    (lambda: Uniform(0.0, math.inf), "finite"),
    (lambda: LogUniform(0.0, 1.0), "0 < low < high"),
    (lambda: LogUniform(-1.0, 1.0), "0 < low < high"),
    (lambda: IntUniform(5, 4), "low <= high"),
    (lambda: IntLogUniform(0, 4), "1 <= low <= high"),
    (lambda: Choice([]), "at least one option"),
    (lambda: Choice([1, 1]), "appears twice"),
])
def test_bad_bounds_raise_value_error_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("make, match", [
    (lambda: Uniform("0", 1.0), "Uniform low must be a real number"),
    (lambda: IntUniform(0.5, 3), "IntUniform low must be an integer"),
    (lambda: IntUniform(True, 3), "must be an integer"),
    (lambda: Choice("abc"), "must be a list"),
    (lambda: Choice([[1, 2]]), "Choice options must be"),
])
def test_bad_types_raise_type_error(make, match):
    with pytest.raises(TypeError, match=match):
        make()


def test_space_rejects_bad_dimensions_and_conditions():
    with pytest.raises(TypeError, match="dimension 'x' must be a Dimension"):
        Space({"x": (0, 1)})
    with pytest.raises(ValueError, match="depends on 'opt', which must be declared before it"):
        Space({"m": Uniform(0, 1, when={"opt": "sgd"}), "opt": Choice(["sgd", "adam"])})
    with pytest.raises(ValueError, match="outside that dimension's domain"):
        Space({"opt": Choice(["sgd", "adam"]), "m": Uniform(0, 1, when={"opt": "rmsprop"})})
    with pytest.raises(ValueError, match="at least one dimension"):
        Space({})


def conditional_space() -> Space:
    return Space({
        "opt": Choice(["sgd", "adam"]),
        "lr": LogUniform(1e-4, 1.0),
        "momentum": Uniform(0.0, 0.99, when={"opt": "sgd"}),
        "nesterov": Choice([False, True], when={"opt": "sgd"}),
        "beta2": Uniform(0.9, 0.9999, when={"opt": ["adam"]}),
    })


def test_conditional_dimensions_are_active_only_for_their_parent_value():
    s = conditional_space()
    sgd = s.from_unit([0.1, 0.5, 0.5, 0.9, 0.5])
    adam = s.from_unit([0.9, 0.5, 0.5, 0.9, 0.5])
    assert set(sgd) == {"opt", "lr", "momentum", "nesterov"}
    assert sgd["nesterov"] is True
    assert set(adam) == {"opt", "lr", "beta2"}
    u = s.to_unit(adam)
    assert np.isnan(u[2]) and np.isnan(u[3]) and u[4] == pytest.approx(0.5)
    assert s.validate(adam) == adam
    with pytest.raises(ValueError, match="'momentum' is inactive"):
        s.validate({**adam, "momentum": 0.5})
    with pytest.raises(ValueError, match="missing value for hyper-parameter 'momentum'"):
        s.validate({"opt": "sgd", "lr": 0.1, "nesterov": True})
    with pytest.raises(ValueError, match="outside"):
        s.validate({"opt": "adam", "lr": 2.0, "beta2": 0.95})
    with pytest.raises(ValueError, match="unknown hyper-parameters"):
        s.validate({**adam, "wd": 1})


def test_json_round_trip_preserves_everything():
    s = conditional_space()
    text = s.to_json()
    back = Space.from_json(text)
    assert back == s
    assert list(back.names) == list(s.names)
    assert back["momentum"].when == {"opt": ("sgd",)}
    assert back.hash == s.hash
    json.loads(text)  # plain JSON
    with pytest.raises(ValueError, match="unknown dimension type"):
        Dimension.from_dict({"type": "gaussian"})


def test_hash_is_stable_and_sensitive():
    s = Space({"x": Uniform(0.0, 1.0), "n": IntLogUniform(16, 512), "c": Choice(["a", True])})
    # Fixed values: the canonical text and its hash must not change across processes, runs
    # or releases (stored studies are matched by it).
    assert s.to_json() == ('{"dims":[["x",{"high":1.0,"low":0.0,"type":"uniform"}],'
                           '["n",{"high":512,"low":16,"type":"intlog"}],'
                           '["c",{"options":["a",true],"type":"choice"}]]}')
    assert s.hash == hashlib.sha256(s.to_json().encode()).hexdigest()
    assert s.hash == "92731d73bf2e320298909345ea1df4670a5d7354a61c1bf8a63abc6b44fc0ed7"
    assert Space({"x": Uniform(0.0, 1.5), "n": IntLogUniform(16, 512),
                  "c": Choice(["a", True])}).hash != s.hash
    assert Space({"n": IntLogUniform(16, 512), "x": Uniform(0.0, 1.0),
                  "c": Choice(["a", True])}).hash != s.hash  # order is part of the space


def test_grid_values():
    assert Uniform(0, 1).grid(3) == [0.0, 0.5, 1.0]
    assert Uniform(0, 1).grid(1) == [0.5]
    np.testing.assert_allclose(LogUniform(1e-3, 1e-1).grid(3), [1e-3, 1e-2, 1e-1])
    assert IntUniform(1, 3).grid(None) == [1, 2, 3]
    assert IntUniform(0, 10).grid(3) == [0, 5, 10]
    assert IntLogUniform(1, 100).grid(3) == [1, 10, 100]
    assert Choice(["a", "b"]).grid(7) == ["a", "b"]
    with pytest.raises(ValueError, match="needs a number of grid points"):
        Uniform(0, 1).grid(None)


def test_contains_checks_type_and_range():
    assert Uniform(0, 1).contains(1) and Uniform(0, 1).contains(np.float32(0.5))
    assert not Uniform(0, 1).contains(1.5) and not Uniform(0, 1).contains("0.5")
    assert not Uniform(0, 1).contains(True)
    assert not LogUniform(1e-3, 1).contains(0.0)
    assert IntUniform(1, 5).contains(np.int64(3)) and not IntUniform(1, 5).contains(6)
    assert not IntUniform(1, 5).contains(2.0) and not IntLogUniform(1, 5).contains(True)
