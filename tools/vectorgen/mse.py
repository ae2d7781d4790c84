"""Cases of mean_squared_error (vectors/mean_squared_error.yaml)."""

from __future__ import annotations

from . import edge, probes
from .build import case, document, group, seeded

OP = "mean_squared_error"

NOTES = {
    "Exact": (
        "Inputs are small binary fractions whose squared differences are exact in every dtype down to float16: "
        "any deviation is an error, not rounding."
    ),
    "SingleSample": "A batch of one sample.",
    "NonFinite": "Inputs hold NaN or infinity; the result follows IEEE 754 (inf - inf and NaN give NaN).",
    "Cancellation": "Predictions equal the targets (loss exactly 0) or differ in the last bits only.",
    "ManyTerms": (
        "A reduction over 4096 terms (seeded 64x64 or 32x128 inputs): summation error grows with the number of "
        "terms and with the accumulator's precision."
    ),
    **edge.notes("EmptyBatch"),
}

NORMAL = {"dist": "normal", "loc": 0.0, "scale": 1.0}
WIDE = {"dist": "uniform", "low": -10.0, "high": 10.0}
EXACT = {"predictions": [[1.5, 2.0, -0.5], [0.0, 3.25, -2.0]], "targets": [[1.0, 0.0, 0.5], [0.0, 3.0, 1.0]]}


def _random(case_id: str, seed: int, shape: list, targets: dict = NORMAL):
    what = "uniform on [-10, 10)" if targets is WIDE else "standard normal"
    comment = f"Seeded random predictions (standard normal) and targets ({what}), shape {shape}."
    return seeded(case_id, comment, seed=seed, shape=shape, distributions={"predictions": NORMAL, "targets": targets})


def _per_element() -> list:
    return [
        case("exact-2x3", "Exact squares: 0.25, 4, 1, 0, 0.0625, 9.", EXACT, flags=("Exact",)),
        _random("random-4x5", 11, [4, 5]),
        _random("random-16x10", 12, [16, 10], WIDE),
        _random("random-2x3x4", 13, [2, 3, 4]),
        case("vector-1d", "A 1-D input: the loss keeps its shape.",
             {"predictions": [0.1, 0.2, 0.3, -100.0], "targets": [0.3, 0.2, 0.1, 100.0]}),
        case("single-sample", "A batch of one with inexact decimal inputs: (0.1 - 0.3)**2 is not 0.04 in binary.",
             {"predictions": [[0.1]], "targets": [[0.3]]}, flags=("SingleSample",)),
        case("cancellation", "Equal inputs give 0; inputs one ulp apart give 2**-104 (at 1.0) and 2**-102 (at 3.5).",
             {"predictions": [[1.0, 1.0000000000000002, 3.5]], "targets": [[1.0, 1.0, 3.5000000000000004]]},
             flags=("Cancellation", "SingleSample")),
        case("non-finite", "NaN propagates; inf - 0 squares to inf; inf - inf is NaN; -inf - inf squares to inf.",
             {"predictions": [[float("nan"), float("inf"), float("inf"), float("-inf")]],
              "targets": [[0.0, 0.0, float("inf"), float("inf")]]}, flags=("NonFinite", "SingleSample")),
    ]


def _reduced(reduction: str) -> list:
    how = "sum of" if reduction == "sum" else "mean of"
    return [
        case(f"exact-2x3-{reduction}", f"The {how} the exact squares of exact-2x3.", EXACT, flags=("Exact",)),
        _random(f"random-4x5-{reduction}", 11, [4, 5]),
        _random(f"random-16x10-{reduction}", 12, [16, 10], WIDE),
        _random(f"random-2x3x4-{reduction}", 13, [2, 3, 4]),
        case(f"single-sample-{reduction}", f"The {how} one element.", {"predictions": [[0.1]], "targets": [[0.3]]},
             flags=("SingleSample",)),
        case(f"non-finite-{reduction}", "One NaN element makes the whole reduction NaN.",
             {"predictions": [[1.0, float("nan"), 2.0]], "targets": [[0.0, 0.0, 0.0]]},
             flags=("NonFinite", "SingleSample")),
    ]


def _many_terms(reduction: str, seed: int, shape: list) -> list:
    lead = f"Seeded random predictions and targets (standard normal), shape {shape}."
    return [seeded(f"many-{'x'.join(map(str, shape))}-{reduction}", probes.accumulation_comment(OP, lead), seed=seed,
                   shape=shape, distributions={"predictions": NORMAL, "targets": NORMAL}, flags=("ManyTerms",))]


NAN_PREDICTIONS = {"predictions": [[1.5, edge.NAN, -0.5], [0.0, 3.25, -2.0]], "targets": EXACT["targets"]}


def _edge() -> list:
    def nan_prediction(suffix: str, reduction: str):
        what = {"none": "only that element is NaN; the other five are exact-2x3's squares",
                "sum": "the sum is NaN", "mean": "the mean is NaN"}[reduction]
        return case(f"nan-prediction-2x3{suffix}", f"exact-2x3 with one prediction NaN: {what}.", NAN_PREDICTIONS,
                    params=edge.params_for(reduction), flags=("NonFinite",))

    return edge.reductions(nan_prediction) + edge.empty_batch(OP, {"predictions": NORMAL, "targets": NORMAL})


def build_document() -> dict:
    """Return the mean_squared_error vector document."""
    return document(
        OP,
        "Squared error (predictions - targets)**2 elementwise, then none, sum or mean over all elements "
        "(tf.keras.losses.MeanSquaredError averages over the last axis only; torch.nn.functional.mse_loss; "
        "optax.squared_error; not optax.l2_loss, which is half of it).",
        NOTES,
        [
            group(OP, {"reduction": "none"}, _per_element(), "One squared error per element."),
            group(OP, {"reduction": "sum"}, _reduced("sum"), "Sum over all elements."),
            group(OP, {"reduction": "mean"}, _reduced("mean"), "Mean over all elements."),
            group(OP, {"reduction": "sum"}, _many_terms("sum", 14, [64, 64]), "Precision probe: a sum of 4096 terms."),
            group(OP, {"reduction": "mean"}, _many_terms("mean", 15, [32, 128]),
                  "Precision probe: a mean of 4096 terms."),
            group(OP, {"reduction": "none"}, _edge(), edge.DESCRIPTION),
        ],
    )
