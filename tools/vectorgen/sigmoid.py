"""Cases of sigmoid_cross_entropy (vectors/sigmoid_cross_entropy.yaml)."""

from __future__ import annotations

from . import edge, probes, tutorial
from .build import case, document, group, naive_comment, seeded

OP = "sigmoid_cross_entropy"

NOTES = {
    "Tutorial": f"Inputs (and printed output, where given) come from the {tutorial.SOURCE}.",
    "ClaimHolds": (
        "The tutorial's hand-written formula -y*log(sigmoid(x)) - (1-y)*log(1-sigmoid(x)) agrees with the fused "
        "op here in float64, within 1e-12 (relative above 1, absolute below)."
    ),
    "ClaimBreaks": (
        "The tutorial's hand-written formula fails here in float64 (and float32): it is non-finite or off by more "
        "than 1e-3 (relative above 1, absolute below). The fused op must still give the loss."
    ),
    "ClaimBreaksFloat32": (
        "The hand-written formula holds in float64 (within 1e-12) but fails in float32 (non-finite or off by more "
        "than 1e-3). The fused op must still give the loss in float32."
    ),
    "ExtremeLogits": (
        "Logits of magnitude 100 or 1e4 with both label values: exp(x) overflows or underflows in every dtype, so "
        "only a stable form (max(x, 0) - x*z + log1p(exp(-|x|))) gives the loss."
    ),
    "SoftLabels": "Labels strictly between 0 and 1 (target probabilities, not classes).",
    "SingleSample": "A batch of one sample.",
    "NearZeroLoss": (
        "Confidently right predictions: the loss is tiny (e^-x for x of 10 to 100) and must keep its relative "
        "precision; 1 - sigmoid(x) or log(sigmoid(x)) rounded to 0 loses all of it."
    ),
    "CancellingForm": (
        "Negative logits with label 0: the loss softplus(x) ~ e^x is tiny, but the algebraically equal "
        "(1 - z) x - log_sigmoid(x) (the form of PyTorch's binary_cross_entropy_with_logits) subtracts two numbers "
        "close to x and cancels."
    ),
    "Float16Saturation": (
        "Logits at float16's limits: exp(12) = 162755 overflows float16 (largest finite 65504), 65504 is that "
        "largest value and 70000 is inf once cast to float16. Ordinary inputs in float32 and float64."
    ),
    "ManyTerms": (
        "A reduction over 4096 terms (seeded 64x64 or 32x128 inputs): summation error grows with the number of "
        "terms and with the accumulator's precision."
    ),
    **edge.notes("LabelOutsideUnitInterval", "NonFiniteLogits", "EmptyBatch"),
}

NORMAL3 = {"dist": "normal", "loc": 0.0, "scale": 3.0}
COIN = {"dist": "bernoulli", "p": 0.5}
SOFT = {"dist": "uniform", "low": 0.0, "high": 1.0}
TUTORIAL_INPUTS = {"logits": tutorial.SIGMOID_LOGITS, "labels": tutorial.SIGMOID_LABELS}


def _tutorial(case_id: str, comment, **options):
    return case(case_id, comment, TUTORIAL_INPUTS, source="tutorial", reference=f"{tutorial.SOURCE}, section 2.1",
                **options)


def _random(case_id: str, seed: int, shape: list, labels: dict = COIN, flags=()):
    kind = "soft labels" if labels is SOFT else "0/1 labels"
    comment = f"Seeded random logits (normal, scale 3) and {kind}, shape {shape}."
    return seeded(case_id, comment, seed=seed, shape=shape, distributions={"logits": NORMAL3, "labels": labels},
                  flags=flags)


def _per_element() -> list:
    return [
        _tutorial(
            "tutorial-5x3",
            "The tutorial's 5x3 multi-label example, elementwise; the tutorial printed E1 = E2 with 9 digits.",
            flags=("Tutorial", "ClaimHolds"),
            published={"source": "tutorial section 2.1, printed output of E1 and of "
                                 "tf.nn.sigmoid_cross_entropy_with_logits (float64)",
                       "digits": 9, "value": tutorial.SIGMOID_PRINTED},
        ),
        _random("random-4x5", 1, [4, 5]),
        _random("random-16x10", 2, [16, 10]),
        _random("random-2x3x4", 3, [2, 3, 4]),
        _random("random-soft-4x5", 4, [4, 5], SOFT, ("SoftLabels",)),
        case("soft-labels-2x4", "Hand-written soft labels, including 0.5 at logit 0 (loss log 2).",
             {"logits": [[-2.0, 0.0, 1.5, 4.0], [0.5, -0.5, 3.0, -3.0]],
              "labels": [[0.25, 0.5, 0.9, 0.1], [0.75, 0.3, 0.05, 0.6]]}, flags=("SoftLabels",)),
        case("zero-logits", "Logit 0 gives log 2 whatever the label.",
             {"logits": [[0.0, 0.0, 0.0]], "labels": [[0.0, 1.0, 0.5]]}, flags=("SoftLabels", "SingleSample")),
        case("single-sample", "A batch of one.", {"logits": [[0.5, -1.5, 3.0, 7.25]], "labels": [[1.0, 0.0, 1.0, 0.0]]},
             flags=("SingleSample",)),
        case("extreme-100", "Logits +-100 with labels 1 (first row) and 0 (second row): losses ~0 and 100.",
             {"logits": [[100.0, -100.0], [100.0, -100.0]], "labels": [[1.0, 1.0], [0.0, 0.0]]},
             flags=("ExtremeLogits",)),
        case("extreme-1e4", "Logits +-1e4 with labels 1 (first row) and 0 (second row): losses 0 and 1e4.",
             {"logits": [[1.0e4, -1.0e4], [1.0e4, -1.0e4]], "labels": [[1.0, 1.0], [0.0, 0.0]]},
             flags=("ExtremeLogits",)),
        *_claim_cases(),
    ]


def _claim_cases() -> list:
    return [
        case("claim-holds-moderate", naive_comment(OP, "Moderate logits (|x| <= 5) with both labels."),
             {"logits": [[-5.0, -1.25, 0.0, 2.5, 5.0]], "labels": [[1.0, 0.0, 1.0, 1.0, 0.0]]},
             flags=("ClaimHolds", "SingleSample")),
        case("claim-breaks-saturation",
             naive_comment(OP, "Large positive logits with label 0: sigmoid(x) rounds to nearly 1, then to 1, "
                               "so log(1 - sigmoid(x)) first loses digits, then is log(0)."),
             {"logits": [[30.0, 36.0, 37.0, 40.0]], "labels": [[0.0, 0.0, 0.0, 0.0]]},
             flags=("ClaimBreaks", "SingleSample")),
        case("claim-breaks-underflow",
             naive_comment(OP, "Large negative logits: exp(-x) overflows, sigmoid(x) is 0, log(0) = -inf, and "
                               "with label 0 the product 0*(-inf) is NaN."),
             {"logits": [[-720.0, -800.0]], "labels": [[1.0, 0.0]]}, flags=("ClaimBreaks", "SingleSample")),
        case("claim-breaks-float32",
             naive_comment(OP, "Negative logits with label 1: in float32 exp(-x) overflows past x=-88.7, so "
                               "sigmoid is 0 and the loss inf; float64 is fine."),
             {"logits": [[-90.0, -104.0]], "labels": [[1.0, 1.0]]}, flags=("ClaimBreaksFloat32", "SingleSample")),
    ]


def _reduced(reduction: str, seed_shape: tuple) -> list:
    seed, shape = seed_shape
    return [
        _tutorial(f"tutorial-5x3-{reduction}", f"The tutorial's 5x3 example, {reduction} over all 15 elements.",
                  flags=("Tutorial",)),
        _random(f"random-{'x'.join(map(str, shape))}-{reduction}", seed, shape),
        case(f"extreme-{reduction}", f"Extreme logits, {reduction}: a sum dominated by 1e4 and 100.",
             {"logits": [[1.0e4, -1.0e4, 100.0, -100.0]], "labels": [[0.0, 1.0, 1.0, 0.0]]},
             flags=("ExtremeLogits", "SingleSample")),
    ]


def _precision() -> list:
    return [
        case("near-zero-loss-20-40",
             probes.forms_comment(OP, "Logits 20 and 40 with label 1: losses e^-20 and e^-40.", "naive"),
             {"logits": [[20.0, 40.0]], "labels": [[1.0, 1.0]]}, flags=("NearZeroLoss",)),
        case("negative-logits-label-0",
             probes.forms_comment(OP, "Logits -10, -20, -30, -100 with label 0: losses ~e^x.", "log-sigmoid"),
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
    lead = f"Seeded random logits (normal, scale 3) and 0/1 labels, shape {shape}."
    return [seeded(f"many-{'x'.join(map(str, shape))}-{reduction}", probes.accumulation_comment(OP, lead), seed=seed,
                   shape=shape, distributions={"logits": NORMAL3, "labels": COIN}, flags=("ManyTerms",))]


def _edge() -> list:
    cases = edge.sigmoid_cases(OP, "", "sigmoid(x) - z tends to 1 and -1 (halved by mean)")
    return cases + edge.empty_batch(OP, {"logits": NORMAL3, "labels": COIN})


def build_document() -> dict:
    """Return the sigmoid_cross_entropy vector document."""
    return document(
        OP,
        "Sigmoid cross-entropy on logits, elementwise: -z log(sigmoid(x)) - (1-z) log(1-sigmoid(x)) "
        "(tf.nn.sigmoid_cross_entropy_with_logits, torch binary_cross_entropy_with_logits, "
        "optax.sigmoid_binary_cross_entropy), then reduced over all elements.",
        NOTES,
        [
            group(OP, {"reduction": "none"}, _per_element(), "One loss per element."),
            group(OP, {"reduction": "sum"}, _reduced("sum", (2, [16, 10])), "Sum over all elements."),
            group(OP, {"reduction": "mean"}, _reduced("mean", (3, [2, 3, 4])), "Mean over all elements."),
            group(OP, {"reduction": "none"}, _precision(), "Precision probes: tiny losses, cancellation, float16."),
            group(OP, {"reduction": "sum"}, _many_terms("sum", 5, [64, 64]), "Precision probe: a sum of 4096 terms."),
            group(OP, {"reduction": "mean"}, _many_terms("mean", 6, [32, 128]), "Precision probe: a mean of 4096 terms."),
            group(OP, {"reduction": "none"}, _edge(), edge.DESCRIPTION),
        ],
    )
