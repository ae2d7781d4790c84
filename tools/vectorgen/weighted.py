"""Cases of weighted_sigmoid_cross_entropy (vectors/weighted_sigmoid_cross_entropy.yaml)."""

from __future__ import annotations

from . import edge, probes, tutorial
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
    "NearZeroLoss": (
        "Confidently right predictions: the loss is tiny (q e^-x, or e^x for label 0) and must keep its relative "
        "precision."
    ),
    "CancellingForm": (
        "Negative logits with label 0: the loss softplus(x) ~ e^x is tiny, but TensorFlow's documented form "
        "(1 - z) x + (1 + (q - 1) z) (log1p(exp(-|x|)) + max(-x, 0)) and PyTorch's (1 - z) x - (1 + (q - 1) z) "
        "log_sigmoid(x) add x to a number close to -x and cancel."
    ),
    "Float16Saturation": (
        "Logits at float16's limits: exp(12) = 162755 overflows float16 (largest finite 65504), 65504 is that "
        "largest value and 70000 is inf once cast to float16. Ordinary inputs in float32 and float64."
    ),
    "ManyTerms": (
        "A reduction over 4096 terms (seeded 64x64 or 32x128 inputs): summation error grows with the number of "
        "terms and with the accumulator's precision."
    ),
    **edge.notes("LabelOutsideUnitInterval", "NonFiniteLogits", "EmptyBatch", "AllZeroWeights"),
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
        case("zero-logits", "Logit 0 with labels 0, 1 and 0.5: the loss is (1 - z + q z) log 2 and the gradient "
                            "((1 - z) - q z) / 2. Logit 0 is where |x| and max(-x, 0) of the documented stable form "
                            "have kinks; differentiating through them must still give the derivative.",
             {"logits": [[0.0, 0.0, 0.0]], "labels": [[0.0, 1.0, 0.5]]}, flags=("SoftLabels", "SingleSample")),
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


def _precision() -> list:
    return [
        case("near-zero-loss-20-40",
             probes.forms_comment(OP, "Logits 20 and 40 with label 1: losses q e^-20 and q e^-40.", "naive"),
             {"logits": [[20.0, 40.0]], "labels": [[1.0, 1.0]]}, flags=("NearZeroLoss",)),
        case("negative-logits-label-0",
             probes.forms_comment(OP, "Logits -10, -20, -30, -100 with label 0: losses ~e^x.", "tf-weighted",
                                  "log-sigmoid"),
             {"logits": [[-10.0, -20.0, -30.0, -100.0]], "labels": [[0.0, 0.0, 0.0, 0.0]]},
             flags=("NearZeroLoss", "CancellingForm")),
        case("float16-saturation",
             probes.float16_comment(OP, "Logits +-12 (exp overflows float16) and +-65504 (the float16 maximum) with "
                                        "label 1 (first row) and 0 (second)."),
             {"logits": [[12.0, -12.0, 65504.0, -65504.0]] * 2,
              "labels": [[1.0] * 4, [0.0] * 4]}, flags=("Float16Saturation",)),
        case("float16-overflow",
             probes.float16_comment(OP, "Logits +-70000 with label 1 (first row) and 0 (second): 70000 is beyond "
                                        "float16, so the case has no float16 form (not applicable there)."),
             {"logits": [[70000.0, -70000.0]] * 2, "labels": [[1.0] * 2, [0.0] * 2]}, flags=("Float16Saturation",)),
    ]


def _many_terms(reduction: str, seed: int, shape: list) -> list:
    lead = f"Seeded random logits (normal, scale 3) and 0/1 labels, shape {shape}, pos_weight 2.5."
    return [seeded(f"many-{'x'.join(map(str, shape))}-{reduction}", probes.accumulation_comment(OP, lead), seed=seed,
                   shape=shape, distributions={"logits": NORMAL3, "labels": COIN}, flags=("ManyTerms",))]


ALL_POSITIVE = {"logits": [[12.0, -3.0, 2.0], [-3.0, 10.0, 0.5]], "labels": [[1.0] * 3, [1.0] * 3]}


def _edge() -> list:
    def zero_weight(suffix: str, reduction: str):
        return case(f"all-zero-pos-weight{suffix}",
                    f"pos_weight [0, 0, 0] with every label 1, {reduction}: every term q z softplus(-x) is 0, so "
                    "the loss and its gradient are 0 everywhere.", ALL_POSITIVE,
                    params=edge.params_for(reduction, pos_weight=[0.0, 0.0, 0.0]), flags=("AllZeroWeights",))

    limit = "(1 - z) sigmoid(x) - q z sigmoid(-x) tends to 1 and -2.5 (halved by mean)"
    cases = edge.sigmoid_cases(OP, ", pos_weight 2.5", limit) + edge.reductions(zero_weight)
    cases.append(case("all-zero-pos-weight-scalar-mean", "pos_weight 0 (a scalar) with every label 1, mean: 0.",
                      ALL_POSITIVE, params={"pos_weight": 0.0, "reduction": "mean"}, flags=("AllZeroWeights",)))
    return cases + edge.empty_batch(OP, {"logits": NORMAL3, "labels": COIN})


def build_document() -> dict:
    """Return the weighted_sigmoid_cross_entropy vector document."""
    groups = []
    for reduction in ("none", "sum", "mean"):
        groups.append(group(OP, {"pos_weight": 2.5, "reduction": reduction}, _scalar_weight(reduction),
                            f"Scalar pos_weight, reduction {reduction}."))
        groups.append(group(OP, {"pos_weight": PER_CLASS, "reduction": reduction}, _class_weight(reduction),
                            f"Per-class pos_weight (one per last-axis element), reduction {reduction}."))
    groups += [
        group(OP, {"pos_weight": 2.5, "reduction": "none"}, _precision(),
              "Precision probes: tiny losses, cancellation, float16."),
        group(OP, {"pos_weight": 2.5, "reduction": "sum"}, _many_terms("sum", 26, [64, 64]),
              "Precision probe: a sum of 4096 terms."),
        group(OP, {"pos_weight": 2.5, "reduction": "mean"}, _many_terms("mean", 27, [32, 128]),
              "Precision probe: a mean of 4096 terms."),
        group(OP, {"pos_weight": 2.5, "reduction": "none"}, _edge(), edge.DESCRIPTION),
    ]
    return document(
        OP,
        "Sigmoid cross-entropy with the positive term weighted: q z softplus(-x) + (1 - z) softplus(x) "
        "(tf.nn.weighted_cross_entropy_with_logits; torch binary_cross_entropy_with_logits(pos_weight=...)), "
        "then reduced over all elements.",
        NOTES,
        groups,
    )
