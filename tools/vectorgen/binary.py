"""Cases of binary_cross_entropy on probabilities (vectors/binary_cross_entropy.yaml)."""

from __future__ import annotations

import numpy as np

from conformance import reference

from . import edge, probability, probes, tutorial
from .build import case, document, group, seeded
from .probability import KERAS_HIGH32, KERAS_LOW32, ONE_BELOW, convention_comment

OP = "binary_cross_entropy"

NOTES = {
    "FromTutorialLogits": probability.FROM_TUTORIAL_NOTE.format(how="probabilities = sigmoid(logits)",
                                                                op="sigmoid_cross_entropy"),
    "SoftLabels": "Labels strictly between 0 and 1 (target probabilities, not classes).",
    "SingleSample": "A batch of one sample.",
    "NearZeroProbability": (
        "Probabilities of 1e-8, 1e-7 (Keras's epsilon), 1e-45 and 1e-300 with label 1 (loss -log p: 18.4, 16.1, "
        "103.6, 690.8) and label 0 (loss -log(1 - p), about p). In float32, 1e-45 is the subnormal 1.4e-45 and "
        "1e-300 is 0 (loss inf with label 1); the runner recomputes the expected value on the rounded inputs."
    ),
    "NearZeroLoss": (
        "Label 0 at a tiny probability: the loss -log(1 - p) is about p (1e-8 down to 1e-300) and must keep its "
        "relative precision. log(1 - p) rounds 1 - p first and gives 0 below p of about 1.1e-16 (float64) or "
        "6e-8 (float32); log1p(-p) keeps it."
    ),
    "NearOneProbability": (
        "Probabilities of 1 - 1e-7, 1 - 1e-8 and 1 - 2**-53 (the largest double below 1) with label 0 (loss "
        "-log(1 - p): 16.1, 18.4, 36.7) and label 1 (loss about 1 - p). In float32 the last two round to 1 (loss "
        "inf with label 0)."
    ),
    "KerasClip": probability.KERAS_CLIP_NOTE,
    "ManyTerms": (
        "A reduction over 2048 terms (seeded 32x64 or 16x128 inputs; half the other files' 4096, to keep the corpus "
        "small): summation error grows with the number of terms and with the accumulator's precision."
    ),
    **probability.convention_notes(OP),
    **edge.notes("ProbabilityAtBoundary", "NonFiniteProbabilities", "ProbabilityOutsideUnitInterval", "EmptyBatch"),
}

UNIFORM = {"dist": "uniform", "low": 0.001, "high": 0.999}
COIN = {"dist": "bernoulli", "p": 0.5}
SOFT = {"dist": "uniform", "low": 0.0, "high": 1.0}
TUTORIAL_INPUTS = {"probabilities": reference.sigmoid(np.asarray(tutorial.SIGMOID_LOGITS)).tolist(),
                   "labels": tutorial.SIGMOID_LABELS}


def _group(params: dict, drafts: list, description: str) -> dict:
    """Return a group whose cases carry the flags of the conventions that differ on them."""
    return group(OP, params, [probability.flagged(OP, params, draft) for draft in drafts], description)


def _tutorial(case_id: str, reduction: str):
    lead = (f"Probabilities sigmoid(x) of the tutorial's 5x3 logits (section 2.1), with its labels, {reduction}. "
            "The tutorial printed sigmoid_cross_entropy on these logits.")
    return case(case_id, probability.from_logits_comment(OP, lead, "sigmoid_cross_entropy", tutorial.SIGMOID_LOGITS),
                TUTORIAL_INPUTS, reference=f"sigmoid of the logits of the {tutorial.SOURCE}, section 2.1",
                flags=("FromTutorialLogits",))


def _random(case_id: str, seed: int, shape: list, labels: dict = COIN, flags=()):
    kind = "soft labels (uniform on [0, 1))" if labels is SOFT else "0/1 labels"
    comment = f"Seeded random probabilities (uniform on [0.001, 0.999)) and {kind}, shape {shape}."
    return seeded(case_id, comment, seed=seed, shape=shape, distributions={"probabilities": UNIFORM, "labels": labels},
                  flags=flags)


def _per_element() -> list:
    return [
        _tutorial("tutorial-sigmoid-5x3", "none"),
        _random("random-4x5", 51, [4, 5]),
        _random("random-16x10", 52, [16, 10]),
        _random("random-2x3x4", 53, [2, 3, 4]),
        _random("random-soft-4x5", 54, [4, 5], SOFT, ("SoftLabels",)),
        case("one-half", "Probability 0.5 costs log 2 whatever the label (0, 1 or 0.5); the gradient is "
                         "-z / p + (1 - z) / (1 - p) = 2 - 4z.",
             {"probabilities": [[0.5, 0.5, 0.5]], "labels": [[0.0, 1.0, 0.5]]}, flags=("SoftLabels", "SingleSample")),
        case("single-sample", "A batch of one.",
             {"probabilities": [[0.9, 0.2, 0.6, 0.01]], "labels": [[1.0, 0.0, 1.0, 0.0]]}, flags=("SingleSample",)),
    ]


def _reduced(reduction: str, seed: int, shape: list) -> list:
    return [
        _tutorial(f"tutorial-sigmoid-5x3-{reduction}", reduction),
        _random(f"random-{'x'.join(map(str, shape))}-{reduction}", seed, shape),
        _random(f"random-soft-4x5-{reduction}", 54, [4, 5], SOFT, ("SoftLabels",)),
    ]


NEAR_ZERO = [1.0e-8, 1.0e-7, 1.0e-45, 1.0e-300]
NEAR_ONE = [1.0 - 1.0e-7, 1.0 - 1.0e-8, ONE_BELOW]
CLIP_LIMITS = [1.0e-7, 1.0 - 1.0e-7, KERAS_LOW32, KERAS_HIGH32]


def _precision() -> list:
    return [
        case("near-zero-probabilities",
             convention_comment(OP, "Probabilities 1e-8, 1e-7, 1e-45 and 1e-300 with label 1 (first row) and 0 "
                                    "(second)."),
             {"probabilities": [NEAR_ZERO] * 2, "labels": [[1.0] * 4, [0.0] * 4]},
             flags=("NearZeroProbability", "NearZeroLoss")),
        case("near-one-probabilities",
             convention_comment(OP, "Probabilities 1 - 1e-7, 1 - 1e-8 and 1 - 2**-53 with label 0 (first row) and 1 "
                                    "(second)."),
             {"probabilities": [NEAR_ONE] * 2, "labels": [[0.0] * 3, [1.0] * 3]}, flags=("NearOneProbability",)),
        case("keras-clip-limits",
             convention_comment(OP, "Probabilities at Keras's clip limits in float64 (1e-7, 1 - 1e-7) and float32 "
                                    f"({KERAS_LOW32!r}, {KERAS_HIGH32!r}) with label 1 (first row) and 0 (second)."),
             {"probabilities": [CLIP_LIMITS] * 2, "labels": [[1.0] * 4, [0.0] * 4]}, flags=("KerasClip",)),
    ]


def _many_terms(reduction: str, seed: int, shape: list) -> list:
    lead = f"Seeded random probabilities (uniform on [0.001, 0.999)) and 0/1 labels, shape {shape}."
    return [seeded(f"many-{'x'.join(map(str, shape))}-{reduction}", probes.accumulation_comment(OP, lead), seed=seed,
                   shape=shape, distributions={"probabilities": UNIFORM, "labels": COIN}, flags=("ManyTerms",))]


AT_BOUNDARY = {"probabilities": [[0.0, 0.0, 1.0, 1.0, 0.0, 1.0]], "labels": [[0.0, 1.0, 0.0, 1.0, 0.5, 0.5]]}
WITH_LABELS = {"probabilities": [[0.0, 1.0]], "labels": [[0.0, 1.0]]}
NAN_PROBABILITY = {"probabilities": [[0.5, edge.NAN, 0.25]], "labels": [[1.0, 0.0, 1.0]]}
OUTSIDE = {"probabilities": [[-0.25, 1.25], [-0.25, 1.25]], "labels": [[0.0, 1.0], [1.0, 0.0]]}


def _edge() -> list:
    def boundary(suffix: str, reduction: str):
        lead = (f"Probabilities 0 and 1 against labels 0, 1 and 0.5, {reduction}: inf where a label weighs an outcome "
                "of probability 0, 0 where the weight is 0 (0 log 0 = 0); the gradient -z / p + (1 - z) / (1 - p) "
                "is 1 and -1 at the zero-cost elements, -inf or inf at the others.")
        return case(f"probabilities-0-and-1{suffix}", convention_comment(OP, lead), AT_BOUNDARY,
                    params=edge.params_for(reduction), flags=("ProbabilityAtBoundary", "SoftLabels", "SingleSample"))

    def matching(suffix: str, reduction: str):
        lead = (f"Probability 0 with label 0 and 1 with label 1, {reduction}: each loss is 0 (0 log 0 = 0) and the "
                "gradient the one-sided derivative, 1 and -1; evaluating z log p as written gives 0 * -inf = NaN.")
        return case(f"probabilities-0-and-1-matching-labels{suffix}", convention_comment(OP, lead), WITH_LABELS,
                    params=edge.params_for(reduction), flags=("ProbabilityAtBoundary", "SingleSample"))

    def nan(suffix: str, reduction: str):
        what = {"none": "NaN at the NaN element, the others keep their losses", "sum": "the sum is NaN",
                "mean": "the mean is NaN"}[reduction]
        return case(f"nan-probability{suffix}", f"A NaN probability (label 0) beside 0.5 and 0.25 (label 1), "
                    f"{reduction}: {what}.", NAN_PROBABILITY, params=edge.params_for(reduction),
                    flags=("NonFiniteProbabilities", "SingleSample"))

    def outside(suffix: str, reduction: str):
        lead = (f"Probabilities -0.25 and 1.25 with labels 0, 1 (first row) and 1, 0 (second), {reduction}: a "
                "negative loss, or the log of a negative number, is no cross-entropy; PyTorch raises, Keras clips.")
        return case(f"probabilities-outside-unit-interval{suffix}", convention_comment(OP, lead), OUTSIDE,
                    params=edge.params_for(reduction),
                    outcome="implementation-defined", flags=("ProbabilityOutsideUnitInterval",))

    cases = [made for make in (boundary, matching, nan, outside) for made in edge.reductions(make)]
    return cases + edge.empty_batch(OP, {"probabilities": UNIFORM, "labels": COIN})


def build_document() -> dict:
    """Return the binary_cross_entropy vector document."""
    none, total, mean = {"reduction": "none"}, {"reduction": "sum"}, {"reduction": "mean"}
    return document(
        OP,
        "Binary cross-entropy of probabilities p against labels z, elementwise: -(z log p + (1 - z) log(1 - p)), "
        "a term of weight 0 counting 0 (0 log 0 = 0), then reduced over all elements "
        "(torch.nn.functional.binary_cross_entropy and nn.BCELoss, which clamp each log at -100; "
        "keras.losses.BinaryCrossentropy(from_logits=False), which clips p into [1e-7, 1 - 1e-7] and averages "
        "over the last axis).",
        NOTES,
        [
            _group(none, _per_element(), "One loss per element."),
            _group(total, _reduced("sum", 52, [16, 10]), "Sum over all elements."),
            _group(mean, _reduced("mean", 53, [2, 3, 4]), "Mean over all elements."),
            _group(none, _precision(), "Precision probes: probabilities near 0 and 1, and at Keras's clip limits."),
            _group(total, _many_terms("sum", 55, [32, 64]), "Precision probe: a sum of 2048 terms."),
            _group(mean, _many_terms("mean", 56, [16, 128]), "Precision probe: a mean of 2048 terms."),
            _group(none, _edge(), edge.DESCRIPTION),
        ],
    )
