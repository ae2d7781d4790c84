"""Cases of sparse_softmax_cross_entropy (vectors/sparse_softmax_cross_entropy.yaml)."""

from __future__ import annotations

from . import edge, probes, tutorial
from .build import case, document, generated, group, naive_comment, seeded

OP = "sparse_softmax_cross_entropy"

NOTES = {
    "Tutorial": f"Inputs come from the {tutorial.SOURCE}, section 2.3 (it prints no output).",
    "ClaimHolds": (
        "The hand-written -log(softmax(x))[label] agrees with the fused op in float64, within 1e-12 (relative "
        "above 1, absolute below)."
    ),
    "ClaimBreaks": (
        "The hand-written -log(softmax(x))[label] fails in float64 (and float32): softmax underflows to 0 at the "
        "label and log gives inf, or the result is off by more than 1e-3. The fused op must still give the loss."
    ),
    "ClaimBreaksFloat32": (
        "The hand-written formula holds in float64 (within 1e-12) but fails in float32, where exp underflows past "
        "a logit gap of about 104. The fused op must still give the loss in float32."
    ),
    "ExtremeLogits": "Logit gaps of 100 to 2e4: exp overflows or underflows, only log-sum-exp gives the loss.",
    "ClassAxisNotLast": "The class axis is not the last one (axis 0, or axis 1 of 3-D logits as in PyTorch).",
    "SingleSample": "A batch of one sample.",
    "Unbatched": "1-D logits and a 0-d label: one sample without a batch axis; the loss is a scalar.",
    "LabelOutOfRange": edge.NOTES["LabelOutOfRange"],
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
    "LanguageModelScale": (
        "Language-model scale (tokens x a 32000-class vocabulary): the inputs are too large to store, so they are "
        "drawn at run time from the generator (source.inputs: generated, float32) and the expected value and "
        "gradient are computed then by the float64 reference (reference-float64-at-run-time)."
    ),
    **edge.notes("NonFiniteLogits", "EmptyBatch"),
}

NORMAL3 = {"dist": "normal", "loc": 0.0, "scale": 3.0}
TUTORIAL_INPUTS = {"logits": tutorial.SPARSE_LOGITS, "labels": tutorial.SPARSE_LABELS}
EXTREME = {"logits": [[1.0e4, -1.0e4, 0.0], [1.0e4, -1.0e4, 0.0], [100.0, -100.0, 0.0]], "labels": [0, 1, 1]}


def _tutorial(case_id: str, comment, **options):
    return case(case_id, comment, TUTORIAL_INPUTS, source="tutorial", reference=f"{tutorial.SOURCE}, section 2.3",
                **options)


def _random(case_id: str, seed: int, shape: list, classes: int, flags=()):
    comment = f"Seeded random logits (normal, scale 3) of shape {shape} and integer labels in [0, {classes})."
    labels = {"dist": "integers", "low": 0, "high": classes}
    return seeded(case_id, comment, seed=seed, shape=shape, distributions={"logits": NORMAL3, "labels": labels},
                  flags=flags)


def _per_sample() -> list:
    return [
        _tutorial("tutorial-2x3", naive_comment(OP, "The tutorial's example: labels [2, 1] for two samples."),
                  flags=("Tutorial", "ClaimHolds")),
        _random("random-4x5", 41, [4, 5], 5),
        _random("random-16x10", 42, [16, 10], 10),
        _random("random-2x3x4", 43, [2, 3, 4], 4),
        case("single-sample", "A batch of one.", {"logits": [[0.5, -1.5, 3.0, 7.25]], "labels": [2]},
             flags=("SingleSample",)),
        case("unbatched-1d", "1-D logits and a 0-d label: one sample, a scalar loss.",
             {"logits": [0.5, -1.5, 3.0, 7.25], "labels": 2}, flags=("Unbatched",)),
        case("extreme-100", "Logits [100, -100, 0] with labels 0, 1, 2: losses ~0, 200, 100.",
             {"logits": [[100.0, -100.0, 0.0]] * 3, "labels": [0, 1, 2]}, flags=("ExtremeLogits",)),
        case("extreme-1e4", "Logits [1e4, -1e4, 0] with labels 0, 1, 2: losses 0, 2e4, 1e4.",
             {"logits": [[1.0e4, -1.0e4, 0.0]] * 3, "labels": [0, 1, 2]}, flags=("ExtremeLogits",)),
        case("claim-breaks-gap-800", naive_comment(OP, "A logit gap of 800: softmax at the label underflows to 0."),
             {"logits": [[0.0, 800.0, 0.0], [800.0, 0.0, 0.0]], "labels": [0, 0]},
             flags=("ClaimBreaks", "ExtremeLogits")),
        case("claim-breaks-float32-gap-104",
             naive_comment(OP, "A logit gap of 104: exp(-104) underflows in float32 but not in float64."),
             {"logits": [[0.0, 104.0, 0.0]], "labels": [0]}, flags=("ClaimBreaksFloat32", "ExtremeLogits", "SingleSample")),
        case("label-out-of-range", "Labels 3 and -1 with 3 classes: no class to pick, so no loss; the op must raise.",
             {"logits": [[2.0, 0.5, 6.0], [0.1, 0.0, 3.0]], "labels": [3, -1]}, outcome="raises",
             flags=("LabelOutOfRange",)),
    ]


def _class_axis(axis: int, reduction: str) -> list:
    tail = "" if reduction == "none" else f"-{reduction}"
    if axis == 0:
        return [_random(f"axis0-random-3x4{tail}", 44, [3, 4], 3, ("ClassAxisNotLast",))]
    return [
        _random(f"axis1-random-2x4x3{tail}", 45, [2, 4, 3], 4, ("ClassAxisNotLast",)),
        case(f"axis1-tutorial-1x3x2{tail}", "The tutorial's example laid out as [batch 1, classes 3, positions 2].",
             {"logits": [[[2.0, 0.1], [0.5, 0.0], [6.0, 3.0]]], "labels": [[2, 1]]}, flags=("ClassAxisNotLast",)),
    ]


def _reduced(reduction: str) -> list:
    return [
        _tutorial(f"tutorial-2x3-{reduction}",
                  naive_comment(OP, f"The tutorial's example, {reduction} of the per-sample losses."),
                  flags=("Tutorial", "ClaimHolds")),
        _random(f"random-16x10-{reduction}", 42, [16, 10], 10),
        case(f"extreme-{reduction}", f"Extreme logits, {reduction}: per-sample losses 0, 2e4 and 200.", EXTREME,
             flags=("ExtremeLogits",)),
    ]


FLOAT16_LOGITS = [[12.0, 0.0], [12.0, 0.0], [65504.0, 0.0], [65504.0, 0.0]]
FLOAT16_OVERFLOW_LOGITS = [[70000.0, 0.0], [70000.0, 0.0]]
VOCABULARY = 32000
LM_LOGITS = {"dist": "normal", "loc": 0.0, "scale": 4.0}


def _precision() -> list:
    return [
        case("near-zero-gap-20-40",
             probes.forms_comment(OP, "Logit gaps of 20 and 40 for the labelled class: losses ~e^-20 and ~e^-40.",
                                  "naive", "plain-logsumexp"),
             {"logits": [[20.0, 0.0], [40.0, 0.0]], "labels": [0, 0]}, flags=("NearZeroLoss",)),
        case("float16-saturation",
             probes.float16_comment(OP, "Logits [12, 0] (exp overflows float16) and [65504, 0] (the float16 "
                                        "maximum), each with label 0, then 1."),
             {"logits": FLOAT16_LOGITS, "labels": [0, 1] * 2}, flags=("Float16Saturation",)),
        case("float16-overflow",
             probes.float16_comment(OP, "Logits [70000, 0], label 0 then 1: 70000 is beyond float16, so the case "
                                        "has no float16 form (the runner reports it not applicable there)."),
             {"logits": FLOAT16_OVERFLOW_LOGITS, "labels": [0, 1]}, flags=("Float16Saturation",)),
    ]


def _many_terms(reduction: str, seed: int, shape: list) -> list:
    lead = f"Seeded random logits (normal, scale 3), shape {shape} ({shape[0]} samples), uniform integer labels."
    labels = {"dist": "integers", "low": 0, "high": shape[-1]}
    return [seeded(f"many-{'x'.join(map(str, shape))}-{reduction}", probes.accumulation_comment(OP, lead), seed=seed,
                   shape=shape, distributions={"logits": NORMAL3, "labels": labels}, flags=("ManyTerms",))]


def _language_model(tokens: int, seed: int, **options):
    reduction = options.get("params", {}).get("reduction", "mean")
    comment = (
        f"{tokens} tokens over a {VOCABULARY}-word vocabulary ({tokens * VOCABULARY / 1e6:.0f}M float32 logits, "
        f"normal with scale 4; labels uniform), {reduction} over the tokens: a {VOCABULARY}-term log-sum-exp per "
        "token at the size language models train at. Drawn at run time; expected value and gradient from the "
        "float64 reference then."
    )
    labels = {"dist": "integers", "low": 0, "high": VOCABULARY}
    return generated(f"lm-{tokens}x{VOCABULARY}{'' if reduction == 'mean' else '-' + reduction}", comment, seed=seed,
                     shape=[tokens, VOCABULARY], dtype="float32", distributions={"logits": LM_LOGITS, "labels": labels},
                     flags=("LanguageModelScale",), **options)


OUT_OF_RANGE = {
    "label-minus-1": (-1, "-1"),
    "label-equals-classes": (3, "3, the class count"),
    "label-minus-100": (-100, "-100, PyTorch's default ignore_index (whose samples PyTorch drops)"),
}


def _edge() -> list:
    def out_of_range(case_id: str):
        label, what = OUT_OF_RANGE[case_id]

        def make(suffix: str, reduction: str):
            return case(f"{case_id}{suffix}", f"The tutorial's logits with labels 2 and {what}, {reduction}: the "
                        "second sample has no class to pick, so there is no loss; the op must raise.",
                        {"logits": tutorial.SPARSE_LOGITS, "labels": [2, label]}, params=edge.params_for(reduction),
                        outcome="raises", flags=("LabelOutOfRange",))

        return make

    cases = [made for case_id in OUT_OF_RANGE for made in edge.reductions(out_of_range(case_id))]
    cases += edge.softmax_cases(OP, dense=False)
    return cases + edge.empty_batch(OP, {"logits": NORMAL3, "labels": {"dist": "integers", "low": 0, "high": 3}})


def build_document() -> dict:
    """Return the sparse_softmax_cross_entropy vector document."""
    groups = [group(OP, {"reduction": "none"}, _per_sample(), "One loss per sample, classes on the last axis.")]
    for axis in (0, 1):
        groups.append(group(OP, {"axis": axis, "reduction": "none"}, _class_axis(axis, "none"),
                            f"Classes on axis {axis}" + (" of 3-D logits (PyTorch's layout)." if axis else ".")))
    for reduction in ("sum", "mean"):
        groups.append(group(OP, {"reduction": reduction}, _reduced(reduction), f"The {reduction} over samples."))
        groups.append(group(OP, {"axis": 1, "reduction": reduction}, _class_axis(1, reduction),
                            f"Classes on axis 1, {reduction} over samples and positions."))
    groups += [
        group(OP, {"reduction": "none"}, _precision(), "Precision probes: tiny losses, float16."),
        group(OP, {"reduction": "sum"}, _many_terms("sum", 46, [64, 64]), "Precision probe: 64 samples of 64 classes, summed."),
        group(OP, {"reduction": "mean"}, _many_terms("mean", 47, [32, 128]),
              "Precision probe: 32 samples of 128 classes, mean."),
        group(OP, {"reduction": "mean"},
              [_language_model(4096, 4096), _language_model(512, 512, params={"reduction": "sum"})],
              "Language-model scale, generated at run time (not stored)."),
        group(OP, {"reduction": "none"}, _edge(), edge.DESCRIPTION),
    ]
    return document(
        OP,
        "Softmax cross-entropy with integer class labels: -log_softmax(logits, axis)[label], one value per sample "
        "(tf.nn.sparse_softmax_cross_entropy_with_logits, torch.nn.functional.cross_entropy with class indices, "
        "optax.softmax_cross_entropy_with_integer_labels), then reduced over the samples.",
        NOTES,
        groups,
    )
