"""Cases of softmax_cross_entropy with dense labels (vectors/softmax_cross_entropy.yaml)."""

from __future__ import annotations

from . import edge, probes, tutorial
from .build import case, document, group, naive_comment, seeded

OP = "softmax_cross_entropy"

NOTES = {
    "Tutorial": f"Inputs come from the {tutorial.SOURCE}, section 2.3 (its integer labels written one-hot).",
    "ClaimHolds": (
        "The tutorial's claim holds: -reduce_sum(labels * log(softmax(x)), axis) agrees with the fused op in "
        "float64, within 1e-12 (relative above 1, absolute below)."
    ),
    "ClaimBreaks": (
        "The tutorial's claim fails in float64 (and float32): softmax underflows to 0, log gives -inf, and the "
        "hand-written loss is inf (label > 0 there) or NaN (label 0 there: 0 * -inf), or off by more than 1e-3. "
        "The fused op must still give the loss."
    ),
    "ClaimBreaksFloat32": (
        "The hand-written formula holds in float64 (within 1e-12) but fails in float32, where exp underflows "
        "past a logit gap of about 104. The fused op must still give the loss in float32."
    ),
    "ExtremeLogits": "Logit gaps of 100 to 2e4: exp overflows or underflows, only log-sum-exp gives the loss.",
    "SoftLabels": "Labels are a probability distribution over the classes, not one-hot.",
    "ClassAxisNotLast": "The class axis is not the last one (axis 0, or axis 1 of 3-D logits as in PyTorch).",
    "SingleSample": "A batch of one sample.",
    "Unbatched": "1-D logits: a single sample without a batch axis; the per-sample loss is a scalar.",
    "NearZeroLoss": (
        "Confidently right predictions (a logit gap of 20 or 40 in favour of the label): the loss log(1 + e^-gap) "
        "is tiny and must keep its relative precision; log(softmax) rounds to log(1) = 0, and a log-sum-exp "
        "computed as max + log(sum(exp(x - max))) rounds to the max, so the loss comes out 0."
    ),
    "Float16Saturation": (
        "Logits at float16's limits: exp(12) = 162755 overflows float16 (largest finite 65504) unless the max is "
        "taken out first, 65504 is that largest value and 70000 is inf once cast to float16. Ordinary inputs in "
        "float32 and float64."
    ),
    "ManyTerms": (
        "Seeded 64x64 or 32x128 logits (4096 elements): each sample's log-sum-exp runs over 64 or 128 classes and "
        "the reduction over the per-sample losses; summation error grows with the number of terms and with the "
        "accumulator's precision."
    ),
    "LabelsNotNormalized": (
        "Soft labels whose sum over the classes is not 1 (1.5, 0.3, 0): the loss is -sum(z log_softmax(x)) as "
        "defined, and its gradient is sum(z) softmax(x) - z; the shortcut softmax(x) - z assumes the sum is 1."
    ),
    **edge.notes("NonFiniteLogits", "EmptyBatch", "AllZeroWeights"),
}

NORMAL3 = {"dist": "normal", "loc": 0.0, "scale": 3.0}
ONEHOT = {"dist": "onehot"}
DIRICHLET = {"dist": "dirichlet", "alpha": 1.0}
TUTORIAL_INPUTS = {"logits": tutorial.SPARSE_LOGITS, "labels": tutorial.ONEHOT_LABELS}
SOFT_INPUTS = {"logits": tutorial.SPARSE_LOGITS, "labels": [[0.1, 0.2, 0.7], [0.25, 0.5, 0.25]]}


def _tutorial(case_id: str, comment, **options):
    return case(case_id, comment, TUTORIAL_INPUTS, source="tutorial", reference=f"{tutorial.SOURCE}, section 2.3",
                **options)


def _random(case_id: str, seed: int, shape: list, labels: dict = ONEHOT, flags=()):
    kind = "Dirichlet(1) soft labels" if labels is DIRICHLET else "one-hot labels"
    if labels is DIRICHLET:
        flags = ("SoftLabels", *flags)
    comment = f"Seeded random logits (normal, scale 3) and {kind}, shape {shape}."
    return seeded(case_id, comment, seed=seed, shape=shape, distributions={"logits": NORMAL3, "labels": labels},
                  flags=flags)


def _per_sample() -> list:
    return [
        _tutorial("tutorial-onehot-2x3", naive_comment(OP, "The tutorial's sparse example with one-hot labels."),
                  flags=("Tutorial", "ClaimHolds")),
        case("soft-labels-2x3", naive_comment(OP, "The tutorial's logits with soft labels."), SOFT_INPUTS,
             flags=("SoftLabels", "ClaimHolds")),
        _random("random-onehot-4x5", 31, [4, 5]),
        _random("random-soft-16x10", 32, [16, 10], DIRICHLET),
        _random("random-onehot-2x3x4", 33, [2, 3, 4]),
        case("single-sample", "A batch of one.", {"logits": [[0.5, -1.5, 3.0, 7.25]], "labels": [[0.0, 0.0, 1.0, 0.0]]},
             flags=("SingleSample",)),
        case("unbatched-1d", "1-D logits and labels: one sample, a scalar loss.",
             {"logits": [0.5, -1.5, 3.0, 7.25], "labels": [0.0, 0.0, 1.0, 0.0]}, flags=("Unbatched",)),
        case("extreme-100", "Logits [100, -100, 0] with the label on each class in turn: losses ~0, 200, 100.",
             {"logits": [[100.0, -100.0, 0.0]] * 3, "labels": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]},
             flags=("ExtremeLogits",)),
        case("extreme-1e4", "Logits [1e4, -1e4, 0] with the label on each class in turn: losses 0, 2e4, 1e4.",
             {"logits": [[1.0e4, -1.0e4, 0.0]] * 3, "labels": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]},
             flags=("ExtremeLogits",)),
        case("claim-breaks-gap-800", naive_comment(OP, "A logit gap of 800: softmax underflows to exactly 0."),
             {"logits": [[800.0, 0.0, 0.0], [800.0, 0.0, 0.0]], "labels": [[1.0, 0.0, 0.0], [0.5, 0.25, 0.25]]},
             flags=("ClaimBreaks", "ExtremeLogits", "SoftLabels")),
        case("claim-breaks-float32-gap-104",
             naive_comment(OP, "A logit gap of 104: exp(-104) underflows in float32 but not in float64."),
             {"logits": [[104.0, 0.0, 0.0]], "labels": [[0.0, 1.0, 0.0]]}, flags=("ClaimBreaksFloat32", "ExtremeLogits", "SingleSample")),
    ]


def _class_axis_0() -> list:
    return [
        case("axis0-tutorial-3x2", "The tutorial's one-hot example transposed: classes down the rows, axis 0.",
             {"logits": [[2.0, 0.1], [0.5, 0.0], [6.0, 3.0]], "labels": [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0]]},
             flags=("ClassAxisNotLast",)),
        _random("axis0-random-soft-5x3", 34, [5, 3], DIRICHLET, ("ClassAxisNotLast",)),
    ]


def _class_axis_1(reduction: str) -> list:
    tail = "" if reduction == "none" else f"-{reduction}"
    return [
        _random(f"axis1-random-onehot-2x4x3{tail}", 35, [2, 4, 3], flags=("ClassAxisNotLast",)),
        _random(f"axis1-random-soft-3x5x2{tail}", 36, [3, 5, 2], DIRICHLET, ("ClassAxisNotLast",)),
    ]


def _reduced(reduction: str) -> list:
    return [
        _tutorial(f"tutorial-onehot-2x3-{reduction}",
                  naive_comment(OP, f"The tutorial's one-hot example, {reduction} of the per-sample losses "
                                    "(the tutorial sums them with reduce_sum)."),
                  flags=("Tutorial", "ClaimHolds")),
        _random(f"random-soft-16x10-{reduction}", 32, [16, 10], DIRICHLET),
        case(f"extreme-{reduction}", f"Extreme logits, {reduction}: per-sample losses 0, 2e4 and 200.",
             {"logits": [[1.0e4, -1.0e4, 0.0], [1.0e4, -1.0e4, 0.0], [100.0, -100.0, 0.0]],
              "labels": [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 1.0, 0.0]]}, flags=("ExtremeLogits",)),
    ]


FLOAT16_LOGITS = [[12.0, 0.0], [12.0, 0.0], [65504.0, 0.0], [65504.0, 0.0]]
FLOAT16_OVERFLOW_LOGITS = [[70000.0, 0.0], [70000.0, 0.0]]


def _precision() -> list:
    return [
        case("near-zero-gap-20-40",
             probes.forms_comment(OP, "Logit gaps of 20 and 40 for the labelled class: losses ~e^-20 and ~e^-40.",
                                  "naive", "plain-logsumexp"),
             {"logits": [[20.0, 0.0], [40.0, 0.0]], "labels": [[1.0, 0.0], [1.0, 0.0]]}, flags=("NearZeroLoss",)),
        case("float16-saturation",
             probes.float16_comment(OP, "Logits [12, 0] (exp overflows float16) and [65504, 0] (the float16 "
                                        "maximum), each with label 0, then 1."),
             {"logits": FLOAT16_LOGITS, "labels": [[1.0, 0.0], [0.0, 1.0]] * 2}, flags=("Float16Saturation",)),
        case("float16-overflow",
             probes.float16_comment(OP, "Logits [70000, 0], label 0 then 1: 70000 is beyond float16, so the case "
                                        "has no float16 form (the runner reports it not applicable there)."),
             {"logits": FLOAT16_OVERFLOW_LOGITS, "labels": [[1.0, 0.0], [0.0, 1.0]]}, flags=("Float16Saturation",)),
        case("labels-sum-not-one",
             probes.label_sum_comment(OP, "The tutorial's logits and a third row, with labels that are not "
                                          "distributions."),
             {"logits": [[2.0, 0.5, 6.0], [0.1, 0.0, 3.0], [1.0, -1.0, 0.5]],
              "labels": [[0.5, 0.7, 0.3], [0.2, 0.1, 0.0], [0.0, 0.0, 0.0]]},
             flags=("LabelsNotNormalized", "SoftLabels")),
    ]


def _many_terms(reduction: str, seed: int, shape: list, labels: dict) -> list:
    kind = "Dirichlet(1) soft labels" if labels is DIRICHLET else "one-hot labels"
    lead = f"Seeded random logits (normal, scale 3) and {kind}, shape {shape} ({shape[0]} samples)."
    flags = ("ManyTerms", "SoftLabels") if labels is DIRICHLET else ("ManyTerms",)
    return [seeded(f"many-{'x'.join(map(str, shape))}-{reduction}", probes.accumulation_comment(OP, lead), seed=seed,
                   shape=shape, distributions={"logits": NORMAL3, "labels": labels}, flags=flags)]


def _edge() -> list:
    def zero_labels(suffix: str, reduction: str):
        return case(f"all-zero-labels{suffix}",
                    f"The tutorial's logits with every label 0, {reduction}: each loss -sum(0 log p) is 0, and so "
                    "is its gradient sum(z) softmax(x) - z.",
                    {"logits": tutorial.SPARSE_LOGITS, "labels": [[0.0] * 3] * 2}, params=edge.params_for(reduction), flags=("AllZeroWeights",))

    cases = edge.softmax_cases(OP, dense=True) + edge.reductions(zero_labels)
    return cases + edge.empty_batch(OP, {"logits": NORMAL3, "labels": ONEHOT})


def build_document() -> dict:
    """Return the softmax_cross_entropy vector document."""
    return document(
        OP,
        "Softmax cross-entropy with dense labels (one-hot or soft) of the logits' shape: one value per sample, "
        "-sum(labels * log_softmax(logits, axis), axis) (tf.nn.softmax_cross_entropy_with_logits, "
        "torch.nn.functional.cross_entropy with probability targets, optax.softmax_cross_entropy), then reduced "
        "over the samples.",
        NOTES,
        [
            group(OP, {"reduction": "none"}, _per_sample(), "One loss per sample, classes on the last axis."),
            group(OP, {"axis": 0, "reduction": "none"}, _class_axis_0(), "Classes on axis 0."),
            group(OP, {"axis": 1, "reduction": "none"}, _class_axis_1("none"),
                  "Classes on axis 1 of 3-D logits [batch, classes, positions] (PyTorch's layout)."),
            group(OP, {"reduction": "sum"}, _reduced("sum"), "Sum of the per-sample losses."),
            group(OP, {"axis": 1, "reduction": "sum"}, _class_axis_1("sum"), "Classes on axis 1, summed."),
            group(OP, {"reduction": "mean"}, _reduced("mean"), "Mean of the per-sample losses."),
            group(OP, {"axis": 1, "reduction": "mean"}, _class_axis_1("mean"), "Classes on axis 1, mean."),
            group(OP, {"reduction": "none"}, _precision(),
                  "Precision probes: tiny losses, float16, labels not summing to 1."),
            group(OP, {"reduction": "sum"}, _many_terms("sum", 37, [64, 64], ONEHOT),
                  "Precision probe: 64 samples of 64 classes, summed."),
            group(OP, {"reduction": "mean"}, _many_terms("mean", 38, [32, 128], DIRICHLET),
                  "Precision probe: 32 samples of 128 classes, mean."),
            group(OP, {"reduction": "none"}, _edge(), edge.DESCRIPTION),
        ],
    )
