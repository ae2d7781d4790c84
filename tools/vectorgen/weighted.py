"""Cases of weighted_sigmoid_cross_entropy (vectors/weighted_sigmoid_cross_entropy.yaml)."""

from __future__ import annotations

from . import tutorial
from .build import case, document, group, seeded

OP = "weighted_sigmoid_cross_entropy"

NOTES = {
    "Tutorial": f"Inputs come from the {tutorial.SOURCE}, section 2.1; the tutorial prints no weighted output.",
    "PerClassWeight": "pos_weight is a list, one weight per element of the last axis (broadcast over the others).",
    "UnitWeight": "pos_weight 1: the loss must equal the unweighted sigmoid cross-entropy.",
    "ZeroWeight": "pos_weight 0: the positive term vanishes, only (1 - z) softplus(x) is left.",
    "ExtremeLogits": (
        "Logits of magnitude 100 or 1e4 with both label values: exp(x) overflows or underflows in every dtype, so "
        "only a stable form gives the loss."
    ),
    "SoftLabels": "Labels strictly between 0 and 1 (target probabilities, not classes).",
    "SingleSample": "A batch of one sample.",
}

NORMAL3 = {"dist": "normal", "loc": 0.0, "scale": 3.0}
COIN = {"dist": "bernoulli", "p": 0.5}
SOFT = {"dist": "uniform", "low": 0.0, "high": 1.0}
TUTORIAL_INPUTS = {"logits": tutorial.SIGMOID_LOGITS, "labels": tutorial.SIGMOID_LABELS}
PER_CLASS = [0.5, 1.0, 3.0]
EXTREME = {"logits": [[100.0, -100.0, 1.0e4, -1.0e4], [100.0, -100.0, 1.0e4, -1.0e4]],
           "labels": [[1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]]}


def _tutorial(case_id: str, comment: str, **options):
    return case(case_id, comment, TUTORIAL_INPUTS, source="tutorial", reference=f"{tutorial.SOURCE}, section 2.1",
                **options)


def _random(case_id: str, seed: int, shape: list, labels: dict = COIN, **options):
    kind = "soft labels" if labels is SOFT else "0/1 labels"
    comment = f"Seeded random logits (normal, scale 3) and {kind}, shape {shape}."
    return seeded(case_id, comment, seed=seed, shape=shape, distributions={"logits": NORMAL3, "labels": labels},
                  **options)


def _scalar_weight(reduction: str) -> list:
    tail = "" if reduction == "none" else f"-{reduction}"
    cases = [
        _tutorial(f"tutorial-5x3-q2.5{tail}", "The tutorial's 5x3 inputs with positive examples weighted 2.5.",
                  flags=("Tutorial",)),
        _random(f"random-16x10{tail}", 21, [16, 10]),
        case(f"extreme{tail}", "Logits +-100 and +-1e4 with labels 1 (first row) and 0 (second row).", EXTREME,
             flags=("ExtremeLogits",)),
    ]
    if reduction != "none":
        return cases
    return cases + [
        _random("random-soft-4x5", 22, [4, 5], SOFT, flags=("SoftLabels",)),
        _random("random-2x3x4", 23, [2, 3, 4]),
        case("single-sample", "A batch of one with soft and hard labels.",
             {"logits": [[0.5, -1.5, 3.0, 7.25]], "labels": [[1.0, 0.0, 0.3, 0.8]]},
             flags=("SingleSample", "SoftLabels")),
        _tutorial("tutorial-5x3-q1", "pos_weight 1 on the tutorial's inputs: the tutorial's printed sigmoid "
                                     "cross-entropy values again.", params={"pos_weight": 1.0}, flags=("Tutorial", "UnitWeight")),
        _tutorial("tutorial-5x3-q0", "pos_weight 0 on the tutorial's inputs: positive entries lose nothing.",
                  params={"pos_weight": 0.0}, flags=("Tutorial", "ZeroWeight")),
    ]


def _class_weight(reduction: str) -> list:
    tail = "" if reduction == "none" else f"-{reduction}"
    cases = [
        _tutorial(f"tutorial-5x3-per-class{tail}", "The tutorial's inputs with pos_weight [0.5, 1, 3] per column.",
                  flags=("Tutorial", "PerClassWeight")),
        _random(f"random-4x5-per-class{tail}", 24, [4, 5], params={"pos_weight": [0.25, 0.5, 1.0, 2.0, 4.0]},
                flags=("PerClassWeight",)),
    ]
    if reduction != "none":
        return cases
    return cases + [
        _random("random-2x3x4-per-class", 25, [2, 3, 4], params={"pos_weight": [10.0, 1.0, 0.1, 2.5]},
                flags=("PerClassWeight",)),
        case("extreme-per-class", "Extreme logits, weights [1, 2, 3, 4] per column.", EXTREME,
             params={"pos_weight": [1.0, 2.0, 3.0, 4.0]}, flags=("ExtremeLogits", "PerClassWeight")),
    ]


def build_document() -> dict:
    """Return the weighted_sigmoid_cross_entropy vector document."""
    groups = []
    for reduction in ("none", "sum", "mean"):
        groups.append(group(OP, {"pos_weight": 2.5, "reduction": reduction}, _scalar_weight(reduction),
                            f"Scalar pos_weight, reduction {reduction}."))
        groups.append(group(OP, {"pos_weight": PER_CLASS, "reduction": reduction}, _class_weight(reduction),
                            f"Per-class pos_weight (one per last-axis element), reduction {reduction}."))
    return document(
        OP,
        "Sigmoid cross-entropy with the positive term weighted: q z softplus(-x) + (1 - z) softplus(x) "
        "(tf.nn.weighted_cross_entropy_with_logits; torch binary_cross_entropy_with_logits(pos_weight=...)), "
        "then reduced over all elements.",
        NOTES,
        groups,
    )
