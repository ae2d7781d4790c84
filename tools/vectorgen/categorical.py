"""Cases of categorical_cross_entropy on probabilities (vectors/categorical_cross_entropy.yaml)."""

from __future__ import annotations

import numpy as np

from conformance import reference

from . import edge, probability, probes, tutorial
from .build import case, document, group, seeded
from .probability import ONE_BELOW, convention_comment

OP = "categorical_cross_entropy"

NOTES = {
    "FromTutorialLogits": probability.FROM_TUTORIAL_NOTE.format(
        how="probabilities = softmax(logits), one-hot labels", op="softmax_cross_entropy"),
    "SoftLabels": "Labels are a probability distribution over the classes, not one-hot.",
    "ClassAxisNotLast": "The class axis is not the last one (axis 0, or axis 1 of 3-D inputs as in PyTorch).",
    "SingleSample": "A batch of one sample.",
    "Unbatched": "1-D inputs: a single sample without a batch axis; the per-sample loss is a scalar.",
    "NearZeroProbability": (
        "The labelled class has probability 1e-8, 1e-7 (Keras's epsilon), 1e-45 or 1e-300 (the rest on another "
        "class): the loss -log p is 18.4, 16.1, 103.6 and 690.8. In float32, 1e-45 is the subnormal 1.4e-45 and "
        "1e-300 is 0 (loss inf); the runner recomputes the expected value on the rounded inputs."
    ),
    "NearOneProbability": (
        "The labelled class has probability 1 - 1e-7, 1 - 1e-8 or 1 - 2**-53 (the largest double below 1): the "
        "loss is about 1 - p (1e-7 down to 1.1e-16), kept to full precision by log p of the exact p. In float32 "
        "the last two round to 1 (loss 0)."
    ),
    "KerasClip": probability.KERAS_CLIP_NOTE,
    "ProbabilitiesNotNormalized": (
        "Probability rows summing to 0.5 and 2, not distributions. The canonical loss takes -sum z log p of the "
        "probabilities as given; Keras (keras-epsilon-clip) first divides each row by its sum, which changes the "
        "loss by sum(z) log(sum p). The comment quotes both."
    ),
    "ManyTerms": (
        "Seeded 32x64 or 16x128 inputs (2048 elements; half the softmax files' 4096, to keep the corpus small): "
        "Dirichlet(1) probability rows over 64 or 128 classes with one-hot labels, each loss a log, and the "
        "reduction over the per-sample losses; summation error grows with the number of terms and with the "
        "accumulator's precision."
    ),
    **probability.convention_notes(OP),
    **edge.notes("ProbabilityAtBoundary", "NonFiniteProbabilities", "AllZeroWeights", "EmptyBatch"),
}

DIRICHLET = {"dist": "dirichlet", "alpha": 1.0}
ONEHOT = {"dist": "onehot"}
TUTORIAL_PROBABILITIES = np.exp(reference.log_softmax(np.asarray(tutorial.SPARSE_LOGITS))).tolist()
TUTORIAL_INPUTS = {"probabilities": TUTORIAL_PROBABILITIES, "labels": tutorial.ONEHOT_LABELS}
ROW = [0.1, 0.2, 0.6, 0.1]


def _group(params: dict, drafts: list, description: str) -> dict:
    """Return a group whose cases carry the flags of the conventions that differ on them."""
    return group(OP, params, [probability.flagged(OP, params, draft) for draft in drafts], description)


def _tutorial(case_id: str, reduction: str, inputs: dict = TUTORIAL_INPUTS, layout: str = "", flags=()):
    lead = (f"Probabilities softmax(x) of the tutorial's logits (section 2.3){layout}, one-hot labels 2 and 1, "
            f"{reduction}.")
    logits = tutorial.SPARSE_LOGITS if not layout else np.transpose(tutorial.SPARSE_LOGITS).tolist()
    return case(case_id, probability.from_logits_comment(OP, lead, "softmax_cross_entropy", logits), inputs,
                reference=f"softmax of the logits of the {tutorial.SOURCE}, section 2.3",
                flags=("FromTutorialLogits", *flags))


def _random(case_id: str, seed: int, shape: list, labels: dict = ONEHOT, flags=()):
    kind = "Dirichlet(1) soft labels" if labels is DIRICHLET else "one-hot labels"
    if labels is DIRICHLET:
        flags = ("SoftLabels", *flags)
    comment = f"Seeded random Dirichlet(1) probability rows and {kind}, shape {shape}."
    return seeded(case_id, comment, seed=seed, shape=shape,
                  distributions={"probabilities": DIRICHLET, "labels": labels}, flags=flags)


def _per_sample() -> list:
    return [
        _tutorial("tutorial-softmax-2x3", "none"),
        _random("random-onehot-4x5", 61, [4, 5]),
        _random("random-soft-16x10", 62, [16, 10], DIRICHLET),
        _random("random-onehot-2x3x4", 63, [2, 3, 4]),
        case("single-sample", "A batch of one: -log 0.6.", {"probabilities": [ROW], "labels": [[0.0, 0.0, 1.0, 0.0]]},
             flags=("SingleSample",)),
        case("unbatched-1d", "1-D probabilities and labels: one sample, a scalar loss, -log 0.6.",
             {"probabilities": ROW, "labels": [0.0, 0.0, 1.0, 0.0]}, flags=("Unbatched",)),
    ]


def _class_axis_0() -> list:
    transposed = {"probabilities": np.transpose(TUTORIAL_PROBABILITIES).tolist(),
                  "labels": np.transpose(tutorial.ONEHOT_LABELS).tolist()}
    return [
        _tutorial("axis0-tutorial-softmax-3x2", "none", transposed, ", transposed: classes down the rows, axis 0",
                  ("ClassAxisNotLast",)),
        _random("axis0-random-soft-5x3", 64, [5, 3], DIRICHLET, ("ClassAxisNotLast",)),
    ]


def _reduced(reduction: str) -> list:
    return [
        _tutorial(f"tutorial-softmax-2x3-{reduction}", reduction),
        _random(f"random-soft-16x10-{reduction}", 62, [16, 10], DIRICHLET),
    ]


def _class_axis_1(reduction: str) -> list:
    tail = "" if reduction == "none" else f"-{reduction}"
    return [_random(f"axis1-random-soft-2x4x3{tail}", 65, [2, 4, 3], DIRICHLET, ("ClassAxisNotLast",))]


def _rows(first: list[float], complement: bool = True) -> list[list[float]]:
    """Return two-class rows [p, 1 - p] (or [p, 1] where 1 - p rounds to 1 anyway)."""
    return [[p, 1.0 - p if complement else 1.0] for p in first]


def _precision() -> list:
    return [
        case("near-zero-probabilities",
             convention_comment(OP, "The labelled class (the first) has probability 1e-8, 1e-7, 1e-45 and 1e-300."),
             {"probabilities": _rows([1.0e-8, 1.0e-7]) + _rows([1.0e-45, 1.0e-300], complement=False),
              "labels": [[1.0, 0.0]] * 4}, flags=("NearZeroProbability",)),
        case("near-one-probabilities",
             convention_comment(OP, "The labelled class (the first) has probability 1 - 1e-7, 1 - 1e-8 and 1 - 2**-53, "
                                    "the rest on the second."),
             {"probabilities": [[1.0 - 1.0e-7, 1.0e-7], [1.0 - 1.0e-8, 1.0e-8], [ONE_BELOW, 2.0**-53]],
              "labels": [[1.0, 0.0]] * 3}, flags=("NearOneProbability",)),
        case("keras-clip-limits",
             convention_comment(OP, "Rows [1e-7, 1 - 1e-7], Keras's clip limits (their float32 roundings once cast), "
                                    "labelled on the first class, then on the second."),
             {"probabilities": [[1.0e-7, 1.0 - 1.0e-7]] * 2, "labels": [[1.0, 0.0], [0.0, 1.0]]}, flags=("KerasClip",)),
        case("probabilities-not-normalized",
             convention_comment(OP, "Rows summing to 0.5, 2 and 1, with labels one-hot on the first class, one-hot on "
                                    "the second, and soft."),
             {"probabilities": [[0.25, 0.125, 0.125], [1.0, 0.5, 0.5], [0.2, 0.3, 0.5]],
              "labels": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.2, 0.3, 0.5]]},
             flags=("ProbabilitiesNotNormalized", "SoftLabels")),
    ]


def _many_terms(reduction: str, seed: int, shape: list) -> list:
    lead = f"Seeded random Dirichlet(1) probability rows and one-hot labels, shape {shape} ({shape[0]} samples)."
    return [seeded(f"many-{'x'.join(map(str, shape))}-{reduction}", probes.accumulation_comment(OP, lead), seed=seed,
                   shape=shape, distributions={"probabilities": DIRICHLET, "labels": ONEHOT}, flags=("ManyTerms",))]


ZERO_ON_LABEL = {"probabilities": [[0.0, 0.3, 0.7], [0.1, 0.0, 0.9]], "labels": [[1.0, 0.0, 0.0], [0.0, 0.5, 0.5]]}
ZERO_OFF_LABEL = {"probabilities": [[0.0, 0.3, 0.7], [1.0, 0.0, 0.0]], "labels": [[0.0, 0.0, 1.0], [1.0, 0.0, 0.0]]}
NAN_ROWS = [[edge.NAN, 0.3, 0.7], [0.2, 0.3, 0.5]]


def _edge() -> list:
    def on_label(suffix: str, reduction: str):
        lead = (f"Probability 0 on a labelled class (one-hot, then soft), {reduction}: each loss is -log 0 = inf; the "
                "gradient -z / p is -inf there and 0 on the unlabelled classes.")
        return case(f"zero-probability-on-label{suffix}", convention_comment(OP, lead), ZERO_ON_LABEL,
                    params=edge.params_for(reduction), flags=("ProbabilityAtBoundary", "SoftLabels"))

    def off_label(suffix: str, reduction: str):
        lead = (f"Probability 0 on unlabelled classes, and 1 on the labelled one in the second row, {reduction}: those "
                "terms are 0 (0 log 0 = 0), so the losses are -log 0.7 and 0; z log p as written gives NaN.")
        return case(f"zero-probability-off-label{suffix}", convention_comment(OP, lead), ZERO_OFF_LABEL,
                    params=edge.params_for(reduction), flags=("ProbabilityAtBoundary",))

    def nan_on_label(suffix: str, reduction: str):
        what = {"none": "the first loss is NaN, the second -log 0.3", "sum": "the sum is NaN",
                "mean": "the mean is NaN"}[reduction]
        return case(f"nan-probability-on-label{suffix}", f"A NaN probability on the first sample's labelled class, "
                    f"{reduction}: {what}.", {"probabilities": NAN_ROWS, "labels": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]]},
                    params=edge.params_for(reduction), flags=("NonFiniteProbabilities",))

    def zero_labels(suffix: str, reduction: str):
        return case(f"all-zero-labels{suffix}", f"Label rows of zeros, beside a probability of 0, {reduction}: each "
                    "loss -sum 0 log p is 0, and so is its gradient.",
                    {"probabilities": [[0.0, 0.3, 0.7], [0.2, 0.3, 0.5]], "labels": [[0.0] * 3] * 2},
                    params=edge.params_for(reduction), flags=("AllZeroWeights",))

    cases = [made for make in (on_label, off_label, nan_on_label, zero_labels) for made in edge.reductions(make)]
    cases.append(case("nan-probability-off-label", convention_comment(
        OP, "A NaN probability on a class whose label is 0: the loss does not depend on that probability, but "
        "xlogy-style evaluations and Keras's rescaling give NaN: implementation-defined."),
        {"probabilities": NAN_ROWS, "labels": [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]}, outcome="implementation-defined",
        flags=("NonFiniteProbabilities",)))
    return cases + edge.empty_batch(OP, {"probabilities": DIRICHLET, "labels": ONEHOT})


def build_document() -> dict:
    """Return the categorical_cross_entropy vector document."""
    none, axis0 = {"reduction": "none"}, {"axis": 0, "reduction": "none"}
    return document(
        OP,
        "Categorical cross-entropy of probabilities p against dense labels z (one-hot or soft) of p's shape: one "
        "value per sample, -sum(z log p, axis), a term of weight 0 counting 0 (0 log 0 = 0), then reduced over the "
        "samples (keras.losses.CategoricalCrossentropy(from_logits=False), which rescales each row to sum 1 and "
        "clips into [1e-7, 1 - 1e-7] first; torch has no probability-input form).",
        NOTES,
        [
            _group(none, _per_sample(), "One loss per sample, classes on the last axis."),
            _group(axis0, _class_axis_0(), "Classes on axis 0."),
            _group({"axis": 1, "reduction": "none"}, _class_axis_1("none"),
                   "Classes on axis 1 of 3-D inputs [batch, classes, positions] (PyTorch's layout)."),
            _group({"reduction": "sum"}, _reduced("sum"), "Sum of the per-sample losses."),
            _group({"axis": 1, "reduction": "sum"}, _class_axis_1("sum"), "Classes on axis 1, summed."),
            _group({"reduction": "mean"}, _reduced("mean"), "Mean of the per-sample losses."),
            _group({"axis": 1, "reduction": "mean"}, _class_axis_1("mean"), "Classes on axis 1, mean."),
            _group(none, _precision(), "Precision probes: probabilities near 0 and 1, at Keras's clip limits, and "
                                       "rows not summing to 1."),
            _group({"reduction": "sum"}, _many_terms("sum", 66, [32, 64]),
                   "Precision probe: 32 samples of 64 classes, summed."),
            _group({"reduction": "mean"}, _many_terms("mean", 67, [16, 128]),
                   "Precision probe: 16 samples of 128 classes, mean."),
            _group(none, _edge(), edge.DESCRIPTION),
        ],
    )
