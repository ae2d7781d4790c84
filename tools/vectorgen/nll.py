"""Cases of nll_loss on log-probabilities (vectors/nll_loss.yaml).

conformance.generate has no log-Dirichlet distribution, so the random
log-probabilities are drawn here: Dirichlet(1) rows and integer labels from
generate_inputs (as the sparse softmax op's logits and labels, the same draws
in the same order), then the log of the rows. Each case stores them as
hand-written inputs and states that recipe, with its generator, in
``source.reference``; the tests redraw them bit for bit.
"""

from __future__ import annotations

import json

import numpy as np

from conformance import reference
from conformance.generate import generate_inputs

from . import edge, probability, probes, tutorial
from .build import case, document, group, show

OP = "nll_loss"
DRAW_OP = "sparse_softmax_cross_entropy"

NOTES = {
    "FromTutorialLogits": probability.FROM_TUTORIAL_NOTE.format(how="log_probabilities = log_softmax(logits)",
                                                                op="sparse_softmax_cross_entropy"),
    "LogDirichletDraw": (
        "Log-probabilities are the log of seeded Dirichlet(1) rows, drawn with their integer labels by "
        "conformance.generate.generate_inputs as the logits and labels of sparse_softmax_cross_entropy, then "
        "logged in float64 (the generator has no log-Dirichlet distribution). They are stored as hand-written "
        "inputs; source.reference gives the recipe and the generator as JSON, and the tests redraw them."
    ),
    "ClassAxisNotLast": "The class axis is not the last one (axis 0, or axis 1 of 3-D inputs as in PyTorch).",
    "SingleSample": "A batch of one sample.",
    "Unbatched": "1-D log-probabilities and a 0-d label: one sample without a batch axis; the loss is a scalar.",
    "ScoresNotLogProbabilities": (
        "Inputs that are not log-probabilities (positive entries; rows whose exponentials do not sum to 1). The "
        "op takes them as given, -x[label], which may be negative, as torch.nn.functional.nll_loss does; an "
        "implementation that normalizes them first (a log_softmax) computes another loss, quoted in the comment."
    ),
    "ExtremeLogProbabilities": (
        "Log-probabilities of -1e-300, log(5e-324) (the smallest subnormal double) and -1e4: the loss is the entry "
        "negated, exact in every dtype the entry fits; in float32 -1e-300 rounds to -0 (loss 0)."
    ),
    "ManyTerms": (
        "A reduction over many per-sample losses (512 samples of 4 classes, or 256 of 8: 2048 elements, and 8 "
        "times the samples of the softmax files' ManyTerms cases): the loss reads one entry per sample, so the "
        "reduction is all there is to round; summation error grows with the number of terms and with the "
        "accumulator's precision."
    ),
    **edge.notes("LabelOutOfRange", "NonFiniteLogProbabilities", "EmptyBatch"),
}

DIRICHLET = {"dist": "dirichlet", "alpha": 1.0}
LOG_TUTORIAL = reference.log_softmax(np.asarray(tutorial.SPARSE_LOGITS)).tolist()
TUTORIAL_INPUTS = {"log_probabilities": LOG_TUTORIAL, "labels": tutorial.SPARSE_LABELS}
LOG_ROW = np.log([0.1, 0.2, 0.6, 0.1]).tolist()
LAYOUT_1X3X2 = [[[2.0, 0.1], [0.5, 0.0], [6.0, 3.0]]]  # the tutorial's logits as [batch 1, classes 3, positions 2]


def drawn(case_id: str, seed: int, shape: list, axis: int = -1, flags=(), comment=None):
    """Return a case of the log of Dirichlet(1) rows and integer labels drawn from ``seed`` (see the module doc)."""
    classes = shape[axis]
    generator = {"seed": seed, "shape": list(shape),
                 "distributions": {"logits": DIRICHLET, "labels": {"dist": "integers", "low": 0, "high": classes}}}
    draw = generate_inputs(DRAW_OP, generator, {"axis": axis})
    inputs = {"log_probabilities": np.log(draw["logits"]).tolist(), "labels": draw["labels"].tolist()}
    recipe = {"op": DRAW_OP, "params": {"axis": axis}, "generator": generator}
    reference_text = ("log_probabilities = log(logits), labels = labels, of conformance.generate.generate_inputs(op, "
                      f"generator, params) with {json.dumps(recipe)}")
    comment = comment or (f"The log of seeded Dirichlet(1) probability rows, shape {shape}, and integer labels in "
                          f"[0, {classes}).")
    return case(case_id, comment, inputs, reference=reference_text, flags=("LogDirichletDraw", *flags))


def _tutorial(case_id: str, reduction: str, inputs: dict = TUTORIAL_INPUTS, logits=tutorial.SPARSE_LOGITS, flags=()):
    lead = f"log_softmax(x) of the tutorial's logits (section 2.3), labels {inputs['labels']}, {reduction}."
    return case(case_id, probability.from_logits_comment(OP, lead, DRAW_OP, logits), inputs,
                reference=f"log_softmax of the logits of the {tutorial.SOURCE}, section 2.3",
                flags=("FromTutorialLogits", *flags))


def _per_sample() -> list:
    return [
        _tutorial("tutorial-log-softmax-2x3", "none"),
        drawn("random-4x5", 71, [4, 5]),
        drawn("random-16x10", 72, [16, 10]),
        drawn("random-2x3x4", 73, [2, 3, 4]),
        case("single-sample", "A batch of one: log [0.1, 0.2, 0.6, 0.1], label 2; the loss is -log 0.6.",
             {"log_probabilities": [LOG_ROW], "labels": [2]}, flags=("SingleSample",)),
        case("unbatched-1d", "1-D log-probabilities and a 0-d label: one sample, a scalar loss, -log 0.6.",
             {"log_probabilities": LOG_ROW, "labels": 2}, flags=("Unbatched",)),
        case("scores-not-log-probabilities", _scores_comment,
             {"log_probabilities": [[2.0, -1.0, 0.5], [0.0, 0.0, 0.0]], "labels": [0, 1]},
             flags=("ScoresNotLogProbabilities",)),
    ]


def _scores_comment(inputs: dict, params: dict, expected: np.ndarray) -> str:
    scores = {"logits": inputs["log_probabilities"], "labels": inputs["labels"]}
    normalized = reference.compute(DRAW_OP, scores, params)
    return (f"Scores [2, -1, 0.5] (label 0) and [0, 0, 0] (label 1): the loss takes them as given, {show(expected)}, "
            f"negative for the first; normalizing them first (log_softmax) would give {show(normalized)}.")


def _class_axis(axis: int, reduction: str) -> list:
    tail = "" if reduction == "none" else f"-{reduction}"
    if axis == 0:
        return [drawn("axis0-random-3x4", 74, [3, 4], axis=0, flags=("ClassAxisNotLast",))]
    layout = {"log_probabilities": reference.log_softmax(np.asarray(LAYOUT_1X3X2), axis=1).tolist(), "labels": [[2, 1]]}
    return [
        drawn(f"axis1-random-2x4x3{tail}", 75, [2, 4, 3], axis=1, flags=("ClassAxisNotLast",)),
        _tutorial(f"axis1-tutorial-1x3x2{tail}", reduction, layout, LAYOUT_1X3X2, ("ClassAxisNotLast",)),
    ]


def _reduced(reduction: str) -> list:
    return [_tutorial(f"tutorial-log-softmax-2x3-{reduction}", reduction),
            drawn(f"random-16x10-{reduction}", 72, [16, 10])]


SMALLEST_SUBNORMAL_LOG = float(np.log(np.nextafter(0.0, 1.0)))
EXTREME = {"log_probabilities": [[-1.0e-300, SMALLEST_SUBNORMAL_LOG, -1.0e4]] * 3, "labels": [0, 1, 2]}


def _extreme_comment(inputs: dict, params: dict, expected: np.ndarray) -> str:
    row = np.asarray(inputs["log_probabilities"][0])
    low = "; ".join(f"in {t} the row is {show(row.astype(t))}" for t in ("float32", "float16"))
    return (f"Log-probabilities -1e-300, log(5e-324) and -1e4, labelled in turn: the losses are {show(expected)}; "
            f"{low}.")


def _precision() -> list:
    return [case("extreme-log-probabilities", _extreme_comment, EXTREME, flags=("ExtremeLogProbabilities",))]


def _many_terms(reduction: str, seed: int, shape: list) -> list:
    lead = f"The log of seeded Dirichlet(1) rows, shape {shape} ({shape[0]} samples), uniform integer labels."
    return [drawn(f"many-{'x'.join(map(str, shape))}-{reduction}", seed, shape, flags=("ManyTerms",),
                  comment=probes.accumulation_comment(OP, lead))]


OUT_OF_RANGE = {
    "label-minus-1": (-1, "-1"),
    "label-equals-classes": (3, "3, the class count"),
    "label-minus-100": (-100, "-100, PyTorch's default ignore_index (whose samples PyTorch drops)"),
}


def _with_first(value: float) -> list:
    """Return the tutorial's log-probabilities with the first sample's first entry replaced by ``value``."""
    return [[value, *LOG_TUTORIAL[0][1:]], LOG_TUTORIAL[1]]


def _out_of_range(case_id: str):
    label, what = OUT_OF_RANGE[case_id]

    def make(suffix: str, reduction: str):
        return case(f"{case_id}{suffix}", f"The tutorial's log-probabilities with labels 2 and {what}, {reduction}: "
                    "the second sample has no class to pick, so there is no loss; the op must raise.",
                    {"log_probabilities": LOG_TUTORIAL, "labels": [2, label]}, params=edge.params_for(reduction),
                    outcome="raises", flags=("LabelOutOfRange",))

    return make


def _non_finite(entry: float, labels: list, name: str, what: dict):
    """Return a maker of cases with the tutorial's first log-probability set to ``entry`` and these labels."""
    where = "the first sample's label" if labels[0] == 0 else "a class off the first sample's label"

    def make(suffix: str, reduction: str):
        return case(f"{name}{suffix}", f"The tutorial's log-probabilities with {show(entry)} on {where} (labels "
                    f"{labels[0]} and 1), {reduction}: {what[reduction]}; the gradient is -1 at each label, 0 "
                    "elsewhere.", {"log_probabilities": _with_first(entry), "labels": labels},
                    params=edge.params_for(reduction), flags=("NonFiniteLogProbabilities",))

    return make


def _edge() -> list:
    finite = "the first loss is its label's log-probability negated, which the non-finite entry does not touch"
    makers = [
        _non_finite(edge.NAN, [0, 1], "nan-on-label", {"none": "the first loss is NaN, the second finite",
                                                       "sum": "the sum is NaN", "mean": "the mean is NaN"}),
        _non_finite(-edge.INF, [0, 1], "neg-inf-on-label", {"none": "the first loss is inf (probability 0), the "
                                                            "second finite", "sum": "the sum is inf",
                                                            "mean": "the mean is inf"}),
    ]
    cases = [made for case_id in OUT_OF_RANGE for made in edge.reductions(_out_of_range(case_id))]
    cases += [made for make in makers for made in edge.reductions(make)]
    cases += [_non_finite(entry, [2, 1], name, {"none": finite})("", "none")
              for entry, name in ((edge.NAN, "nan-off-label"), (-edge.INF, "neg-inf-off-label"))]
    uniform = {"dist": "uniform", "low": -10.0, "high": 0.0}
    return cases + edge.empty_batch(OP, {"log_probabilities": uniform, "labels": {"dist": "integers", "low": 0,
                                                                                   "high": 3}})


def build_document() -> dict:
    """Return the nll_loss vector document."""
    groups = [group(OP, {"reduction": "none"}, _per_sample(), "One loss per sample, classes on the last axis.")]
    for axis in (0, 1):
        groups.append(group(OP, {"axis": axis, "reduction": "none"}, _class_axis(axis, "none"),
                            f"Classes on axis {axis}" + (" of 3-D inputs (PyTorch's layout)." if axis else ".")))
    for reduction in ("sum", "mean"):
        groups.append(group(OP, {"reduction": reduction}, _reduced(reduction), f"The {reduction} over samples."))
        groups.append(group(OP, {"axis": 1, "reduction": reduction}, _class_axis(1, reduction),
                            f"Classes on axis 1, {reduction} over samples and positions."))
    groups += [
        group(OP, {"reduction": "none"}, _precision(), "Precision probe: log-probabilities at the ends of the range."),
        group(OP, {"reduction": "sum"}, _many_terms("sum", 76, [512, 4]), "Precision probe: 512 samples, summed."),
        group(OP, {"reduction": "mean"}, _many_terms("mean", 77, [256, 8]), "Precision probe: 256 samples, mean."),
        group(OP, {"reduction": "none"}, _edge(), edge.DESCRIPTION),
    ]
    return document(
        OP,
        "Negative log-likelihood of integer labels: -log_probabilities[label] along the class axis, one value per "
        "sample, the inputs taken as given (not normalized), then reduced over the samples "
        "(torch.nn.functional.nll_loss and nn.NLLLoss, class axis 1, whose default ignore_index -100 drops samples "
        "where this op raises).",
        NOTES,
        groups,
    )
