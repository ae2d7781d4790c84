"""conformance.generate: seeded inputs regenerate exactly, each distribution keeps its promise, bad specs fail clearly.

Also: tools/make_vectors.py reproduces the shipped files byte for byte, and its --check notices an edited file.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from vector_corpus import CORPUS, VECTORS

from conformance.generate import DISTRIBUTIONS, generate_inputs

ROOT = VECTORS.parent
SEEDED = [case for case in CORPUS.cases if case.source["inputs"] == "seeded-random"]
NORMAL = {"dist": "normal", "loc": 0.0, "scale": 1.0}


def spec(shape, seed=0, **distributions) -> dict:
    """Return a generator spec."""
    return {"seed": seed, "shape": list(shape), "distributions": distributions}


def test_there_are_seeded_cases_for_every_op():
    # nll_loss draws the log of Dirichlet rows, which the generator has no distribution for (LogDirichletDraw)
    assert {case.op for case in SEEDED} == {
        "mean_squared_error", "sigmoid_cross_entropy", "weighted_sigmoid_cross_entropy",
        "softmax_cross_entropy", "sparse_softmax_cross_entropy", "binary_cross_entropy", "categorical_cross_entropy",
    }


@pytest.mark.parametrize("case", SEEDED, ids=lambda c: c.key)
def test_stored_inputs_equal_their_regeneration_exactly(case):
    regenerated = generate_inputs(case.op, case.source["generator"], case.params)
    assert list(regenerated) == list(case.inputs), f"{case.key}: inputs {list(regenerated)} vs {list(case.inputs)}"
    for name, stored in case.inputs.items():
        again = regenerated[name]
        assert again.dtype == stored.dtype and again.shape == stored.shape, (
            f"{case.key} input {name}: regenerated {again.dtype}{list(again.shape)}, stored {stored.dtype}{list(stored.shape)}"
        )
        diff = np.argwhere(again != stored)
        assert diff.size == 0, f"{case.key} input {name}: differs at {diff[:3].tolist()} (first of {len(diff)})"


def test_inputs_are_drawn_in_input_order_from_one_generator():
    got = generate_inputs("mean_squared_error", spec([3, 4], seed=7, predictions=NORMAL,
                                                     targets={"dist": "uniform", "low": -1.0, "high": 1.0}), {})
    rng = np.random.default_rng(7)
    assert np.array_equal(got["predictions"], rng.normal(0.0, 1.0, size=(3, 4)))
    assert np.array_equal(got["targets"], rng.uniform(-1.0, 1.0, size=(3, 4)))


def test_same_seed_same_inputs_other_seed_other_inputs():
    one = generate_inputs("sigmoid_cross_entropy", spec([5, 5], 1, logits=NORMAL, labels={"dist": "bernoulli", "p": 0.5}), {})
    two = generate_inputs("sigmoid_cross_entropy", spec([5, 5], 1, logits=NORMAL, labels={"dist": "bernoulli", "p": 0.5}), {})
    three = generate_inputs("sigmoid_cross_entropy", spec([5, 5], 2, logits=NORMAL, labels={"dist": "bernoulli", "p": 0.5}), {})
    assert all(np.array_equal(one[k], two[k]) for k in one)
    assert not np.array_equal(one["logits"], three["logits"])


def draw_labels(op: str, labels: dict, shape=(64, 6), params=None) -> np.ndarray:
    """Return the labels a spec draws (logits standard normal)."""
    return generate_inputs(op, spec(shape, 3, logits=NORMAL, labels=labels), params or {})["labels"]


def test_bernoulli_gives_float_zeros_and_ones_at_rate_p():
    labels = draw_labels("sigmoid_cross_entropy", {"dist": "bernoulli", "p": 0.25}, (200, 10))
    assert labels.dtype == np.float64 and set(np.unique(labels)) == {0.0, 1.0}
    assert 0.2 < labels.mean() < 0.3, labels.mean()
    assert not draw_labels("sigmoid_cross_entropy", {"dist": "bernoulli", "p": 0.0}).any()
    assert draw_labels("sigmoid_cross_entropy", {"dist": "bernoulli", "p": 1.0}).all()


def test_uniform_and_normal_stay_in_their_range_and_scale():
    labels = draw_labels("sigmoid_cross_entropy", {"dist": "uniform", "low": 0.25, "high": 0.75}, (100, 10))
    assert labels.min() >= 0.25 and labels.max() < 0.75 and labels.dtype == np.float64
    x = generate_inputs("mean_squared_error", spec([100, 10], 5, predictions={"dist": "normal", "loc": 2.0, "scale": 3.0},
                                                   targets=NORMAL), {})["predictions"]
    assert abs(x.mean() - 2.0) < 0.5 and abs(x.std() - 3.0) < 0.5, (x.mean(), x.std())


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_dirichlet_rows_are_distributions_along_the_class_axis(axis):
    labels = draw_labels("softmax_cross_entropy", {"dist": "dirichlet", "alpha": 0.5}, (4, 5, 6), {"axis": axis})
    assert labels.shape == (4, 5, 6) and np.all(labels >= 0)
    np.testing.assert_allclose(labels.sum(axis=axis), 1.0, rtol=0, atol=1e-12)
    per_class = draw_labels("softmax_cross_entropy", {"dist": "dirichlet", "alpha": [1.0, 1.0, 1.0, 1.0, 1.0, 50.0]})
    assert per_class.mean(axis=0).argmax() == 5  # the heavy alpha wins


@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_onehot_rows_have_exactly_one_one(axis):
    labels = draw_labels("softmax_cross_entropy", {"dist": "onehot"}, (4, 5, 6), {"axis": axis})
    assert set(np.unique(labels)) == {0.0, 1.0}
    assert np.array_equal(labels.sum(axis=axis), np.ones(np.delete((4, 5, 6), axis)))


def test_integers_are_int64_in_range_and_sparse_labels_drop_the_class_axis():
    labels = draw_labels("sparse_softmax_cross_entropy", {"dist": "integers", "low": 0, "high": 6}, (500, 6))
    assert labels.dtype == np.int64 and labels.shape == (500,)
    assert set(np.unique(labels)) == set(range(6))  # both ends reached, high excluded
    torch_layout = draw_labels("sparse_softmax_cross_entropy", {"dist": "integers", "low": 0, "high": 4}, (2, 4, 3),
                               {"axis": 1})
    assert torch_layout.shape == (2, 3) and torch_layout.max() < 4
    unbatched = draw_labels("sparse_softmax_cross_entropy", {"dist": "integers", "low": 0, "high": 4}, (4,))
    assert isinstance(unbatched, np.ndarray) and unbatched.shape == () and unbatched.dtype == np.int64


def test_every_distribution_is_exercised_by_a_test_or_a_shipped_case():
    shipped = {d["dist"] for c in SEEDED for d in c.source["generator"]["distributions"].values()}
    assert shipped | {"uniform", "normal"} == set(DISTRIBUTIONS)


BAD = [
    ("no_op", spec([2], predictions=NORMAL, targets=NORMAL), {}, "unknown op 'no_op'"),
    ("mean_squared_error", [1, 2], {}, "must be a mapping"),
    ("mean_squared_error", {"seed": 1, "shape": [2]}, {}, r"missing keys \['distributions'\]"),
    ("mean_squared_error", {**spec([2], predictions=NORMAL, targets=NORMAL), "sead": 1}, {}, r"unknown keys \['sead'\]"),
    ("mean_squared_error", spec([2], -1, predictions=NORMAL, targets=NORMAL), {}, "seed must be a non-negative integer"),
    ("mean_squared_error", spec([2.0], predictions=NORMAL, targets=NORMAL), {}, "shape must be a list of non-negative"),
    ("mean_squared_error", spec([2], predictions=NORMAL), {}, r"must name exactly the inputs \['predictions', 'targets'\]"),
    ("mean_squared_error", spec([2], predictions=NORMAL, targets={"dist": "gauss"}), {}, "unknown distribution 'gauss'"),
    ("mean_squared_error", spec([2], predictions=NORMAL, targets={"dist": "normal", "loc": 0.0}), {}, r"missing \['scale'\]"),
    ("mean_squared_error", spec([2], predictions=NORMAL, targets={**NORMAL, "mu": 1.0}), {}, r"unknown \['mu'\]"),
    ("mean_squared_error", spec([2], predictions=NORMAL, targets={**NORMAL, "scale": -1.0}), {}, "scale must be >= 0"),
    ("mean_squared_error", spec([2], predictions=NORMAL, targets={**NORMAL, "loc": "0"}), {}, "loc must be a finite number"),
    ("mean_squared_error", spec([2], predictions=NORMAL, targets={"dist": "uniform", "low": 1.0, "high": 1.0}), {},
     "uniform needs low < high"),
    ("sigmoid_cross_entropy", spec([2], logits=NORMAL, labels={"dist": "bernoulli", "p": 1.5}), {}, r"p must lie in \[0, 1\]"),
    ("sigmoid_cross_entropy", spec([2], logits=NORMAL, labels={"dist": "integers", "low": 0, "high": 2}), {},
     "labels is float-valued and needs a float distribution"),
    ("sparse_softmax_cross_entropy", spec([2, 3], logits=NORMAL, labels=NORMAL), {}, "labels is int-valued and needs integers"),
    ("sparse_softmax_cross_entropy", spec([2, 3], logits=NORMAL, labels={"dist": "integers", "low": 3, "high": 3}), {},
     "integers needs low < high"),
    ("sparse_softmax_cross_entropy", spec([2, 3], logits=NORMAL, labels={"dist": "integers", "low": 0, "high": 3.0}), {},
     "high must be an integer"),
    ("sparse_softmax_cross_entropy", spec([2, 3], logits=NORMAL, labels={"dist": "integers", "low": 0, "high": 3}),
     {"axis": 2}, "class axis 2 is out of range for shape"),
    ("softmax_cross_entropy", spec([2, 3], logits=NORMAL, labels={"dist": "dirichlet", "alpha": 0.0}), {}, "alpha must be > 0"),
    ("softmax_cross_entropy", spec([2, 3], logits=NORMAL, labels={"dist": "dirichlet", "alpha": [1.0, 1.0]}), {},
     "alpha has 2 entries but there are 3 classes"),
    ("softmax_cross_entropy", spec([], logits=NORMAL, labels={"dist": "onehot"}), {}, "class axis -1 is out of range"),
    ("softmax_cross_entropy", spec([2, 3], logits=NORMAL, labels="onehot"), {}, "a distribution is a mapping"),
    ("softmax_cross_entropy", spec([2, 3], logits=NORMAL, labels={"dist": ["onehot"]}), {}, "unknown distribution"),
    ("softmax_cross_entropy", spec([2, 3], logits=NORMAL, labels={"dist": "onehot"}), {"axis": "1"},
     "class axis must be an integer"),
]


@pytest.mark.parametrize("op, generator, params, message", BAD, ids=[m for *_, m in BAD])
def test_bad_generator_specs_raise_value_error_naming_the_problem(op, generator, params, message):
    with pytest.raises(ValueError, match=message):
        generate_inputs(op, generator, params)


def run_make_vectors(*args: str) -> subprocess.CompletedProcess:
    """Return the finished run of tools/make_vectors.py with ``args``."""
    return subprocess.run([sys.executable, str(ROOT / "tools" / "make_vectors.py"), *args], capture_output=True,
                          text=True, timeout=300)


def test_make_vectors_reproduces_the_shipped_files_byte_for_byte():
    run = run_make_vectors("--check")
    assert run.returncode == 0, f"vectors are stale or not reproducible:\n{run.stdout}\n{run.stderr}"


def test_make_vectors_check_notices_an_edited_file(tmp_path: Path):
    for path in VECTORS.glob("*.yaml"):
        shutil.copy(path, tmp_path / path.name)
    edited = tmp_path / "mean_squared_error.yaml"
    edited.write_text(edited.read_text(encoding="utf-8").replace("exact-2x3-sum", "exact-2x3-total"), encoding="utf-8")
    run = run_make_vectors("--check", "--out", str(tmp_path))
    assert run.returncode == 1 and "mean_squared_error.yaml" in run.stdout, run.stdout + run.stderr
