"""Edge behaviour shared by the op modules: the edge flags' definitions, the cases, and comments quoting the formula.

Edge cases probe inputs where frameworks may legitimately differ or where a
result is a limit, a NaN or nothing at all. Each states in its ``outcome``
what mathematics says: a value (possibly NaN or an infinity), ``raises`` (no
value exists), or ``implementation-defined`` (the formula still evaluates but
no longer means the loss). Every op module adds them as one group, ``Edge
behaviour``, after its other groups, so no earlier case moves.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from conformance import reference

from .build import case, generated, show

DESCRIPTION = (
    "Edge behaviour: inputs where frameworks may differ; each case's outcome says what mathematics gives (a value, "
    "possibly NaN or inf; raises; or implementation-defined)."
)
INF, NAN = float("inf"), float("nan")

NOTES = {
    "LabelOutOfRange": (
        "A class label outside [0, classes) (-1, the class count, or -100, PyTorch's default ignore_index): there is "
        "no class to pick, so the loss has no value and the op must raise (outcome raises). TensorFlow documents an "
        "error on CPU but NaN on GPU; PyTorch skips samples labelled with its ignore_index."
    ),
    "LabelOutsideUnitInterval": (
        "Labels -0.5 and 1.5, outside [0, 1]. The formula still evaluates, to softplus(x) - z x (weighted: "
        "q z softplus(-x) + (1 - z) softplus(x)); every algebraic form of the loss is linear in z and gives the same "
        "number, which can be negative, so it is no longer a cross-entropy. A framework may compute it, clip the "
        "labels or raise: implementation-defined, and the case records which."
    ),
    "NonFiniteLogits": (
        "Logits hold NaN or an infinity. A NaN logit makes its loss NaN (for the softmax ops, its sample's loss). "
        "At an infinite logit the loss is its limit and the gradient the limit of the derivative (sigmoid(x) - z, "
        "or sum(z) softmax(x) - z); the float64 reference computes both. A logit at infinity against its label "
        "costs inf; one at infinity on the side of its label (sigmoid: +inf with label 1, -inf with label 0) costs "
        "0, since the other term has weight 0 for every finite logit and so in the limit. A softmax +inf logit "
        "takes all the probability: 0 if its class holds all the label mass, inf if another class holds some; a "
        "-inf logit has probability 0 and drops out unless labelled (then inf). An evaluation that meets inf - inf "
        "or 0 * inf gives NaN there and misses the limit. Sums and means of a NaN are NaN, of inf inf."
    ),
    "EmptyBatch": (
        "Inputs of shape [0, 3]: no samples. none gives an empty result ([0, 3]; [0] for the ops with a class axis), "
        "sum gives "
        "0 (the empty sum) and mean gives NaN: the mean is the sum over the count, 0 / 0, which IEEE 754 makes NaN "
        "and which mathematics leaves without a value; a framework that returns 0 reports a perfect loss for a "
        "batch it never saw. Nested lists cannot hold the shape [0, 3] (an empty list reads back as [0]), so these "
        "cases are generated: the generator's shape is [0, 3], nothing is drawn, and the expected value is the "
        "float64 reference's on that draw when the case runs. No gradient check runs on generated cases."
    ),
    "AllZeroWeights": (
        "Every weight on the loss is zero: pos_weight 0 (a list of zeros, or the scalar 0) with labels 1, or dense "
        "label rows of zeros. Each term is 0, and so are sum and mean, which divide by the number of elements or "
        "samples, not by the total weight (a framework that normalises by the weight divides 0 by 0)."
    ),
    "ProbabilityAtBoundary": (
        "Probabilities of exactly 0 or 1, against each label. A label weight on an outcome of probability 0 costs "
        "-log 0 = inf (binary: z > 0 at p = 0, or z < 1 at p = 1; categorical: z_j > 0 at p_j = 0), and the "
        "gradient -z / p or (1 - z) / (1 - p) is -inf or inf there. A zero weight costs nothing: 0 log 0 = 0, as "
        "0 log p is 0 for every p in (0, 1) and so in the limit; p = 1 with label 1, p = 0 with label 0, or "
        "p_j = 0 on an unlabelled class give 0, and the gradient is the one-sided derivative (-1 at p = 1, z = 1; "
        "1 at p = 0, z = 0; 0 on an unlabelled class). An evaluation as z * log(p) gives 0 * -inf = NaN there."
    ),
    "NonFiniteProbabilities": (
        "A probability is NaN. Binary cross-entropy: that element's loss is NaN (p is in a term of nonzero weight "
        "whatever the label). Categorical: a NaN on a labelled class makes its sample's loss NaN; a NaN only on "
        "classes whose label is 0 is implementation-defined: the loss -sum z_j log p_j does not depend on those "
        "p_j, and the reference (0 log p = 0) gives the loss over the labelled classes, but xlogy-style "
        "evaluations (scipy.special.xlogy(0, nan) and torch.xlogy(0, nan) are NaN) and Keras, which divides by "
        "sum(p) first, give NaN. Sums and means of a NaN are NaN."
    ),
    "ProbabilityOutsideUnitInterval": (
        "Probabilities -0.25 and 1.25, outside [0, 1]. The formula still evaluates where its logs are of positive "
        "numbers, to a negative loss (-log 1.25 with label 1, -log(1 + 0.25) with label 0), and is NaN where they "
        "are not; no value is a cross-entropy. PyTorch's binary_cross_entropy raises, Keras clips into "
        "[1e-7, 1 - 1e-7]: implementation-defined, and the case records which."
    ),
    "NonFiniteLogProbabilities": (
        "Log-probabilities hold NaN or -inf (probability 0). The loss -log_p[label] reads the label's entry only: "
        "-inf there costs inf, NaN there gives NaN, and either one off the label leaves the loss finite. The "
        "gradient is -1 at the label and 0 elsewhere whatever the values (the derivative of -x), which is what a "
        "gather's backward gives. Sums and means of a NaN are NaN, of inf inf."
    ),
}


def notes(*flags: str) -> dict[str, str]:
    """Return the definitions of the named edge flags, for a module's NOTES."""
    return {flag: NOTES[flag] for flag in flags}


def reductions(make: Callable[[str, str], object]) -> list:
    """Return ``make(id suffix, reduction)`` for none, sum and mean: id suffixes '', '-sum' and '-mean'."""
    return [make("" if r == "none" else f"-{r}", r) for r in ("none", "sum", "mean")]


def params_for(reduction: str, **params) -> dict:
    """Return a case's own params in an edge group (default reduction none): ``params`` and any other reduction."""
    return {**params, **({} if reduction == "none" else {"reduction": reduction})}


def empty_batch(op: str, distributions: dict, **params) -> list:
    """Return the three EmptyBatch cases of ``op`` (none, sum, mean), generated with shape [0, 3]."""
    what = {"none": "an empty result", "sum": "0, the empty sum", "mean": "NaN, 0 / 0"}
    first = next(iter(distributions))

    def make(suffix: str, reduction: str):
        comment = f"A batch of no samples ({first} of shape [0, 3]), {reduction}: {what[reduction]}."
        return generated(f"empty-batch-0x3{suffix}", comment, seed=0, shape=[0, 3], distributions=distributions,
                         flags=("EmptyBatch",), params=params_for(reduction, **params))

    return reductions(make)


def formula_comment(op: str, lead: str, why: str) -> Callable:
    """Return a comment maker quoting what the reference formula gives on the case (computed), then why.

    The unreduced values are quoted for every reduction, since what makes a
    case an edge (a negative loss, a NaN) shows there, then the reduced value.
    """

    def make(inputs: dict, params: dict, expected: np.ndarray | None) -> str:
        with np.errstate(all="ignore"):
            terms = reference.compute(op, inputs, {**params, "reduction": "none"})
        reduction = params["reduction"]
        reduced = "" if reduction == "none" else f", whose {reduction} is {show(reference.reduce(terms, reduction))}"
        return f"{lead} The reference formula gives {show(terms)}{reduced}; {why}"

    return make


OUTSIDE_UNIT_INTERVAL = {"logits": [[-2.0, 0.0, 3.0], [-2.0, 0.0, 3.0]], "labels": [[-0.5] * 3, [1.5] * 3]}
NAN_LOGITS = {"logits": [[NAN, 1.0, NAN]], "labels": [[1.0, 1.0, 0.0]]}
INF_AGAINST_LABELS = {"logits": [[INF, -INF]], "labels": [[0.0, 1.0]]}
INF_WITH_LABELS = {"logits": [[INF, -INF]], "labels": [[1.0, 0.0]]}
NAN_WHAT = {"none": "NaN where the logit is NaN; the finite element keeps its loss", "sum": "the sum is NaN",
            "mean": "the mean is NaN"}


def sigmoid_cases(op: str, weight: str, gradient: str) -> list:
    """Return the LabelOutsideUnitInterval and NonFiniteLogits cases of a sigmoid op, each for none, sum and mean.

    ``weight`` names the pos_weight in the comments ('' for none); ``gradient``
    says what the derivative tends to at the infinite logits.
    """
    def outside(suffix: str, reduction: str):
        comment = formula_comment(
            op, f"Logits -2, 0, 3 with labels -0.5 (first row) and 1.5 (second){weight}, {reduction}.",
            "a loss below 0 is no cross-entropy, so frameworks may compute it, clip the labels or raise.")
        return case(f"labels-outside-unit-interval{suffix}", comment, OUTSIDE_UNIT_INTERVAL,
                    params=params_for(reduction), outcome="implementation-defined",
                    flags=("LabelOutsideUnitInterval",))

    def nan_logit(suffix: str, reduction: str):
        return case(f"nan-logit{suffix}", f"NaN logits with labels 1 and 0 beside a finite one{weight}, {reduction}: "
                    f"{NAN_WHAT[reduction]}.", NAN_LOGITS, params=params_for(reduction),
                    flags=("NonFiniteLogits", "SingleSample"))

    def against(suffix: str, reduction: str):
        return case(f"inf-logits-against-labels{suffix}",
                    f"Logit +inf with label 0 and -inf with label 1{weight}, {reduction}: the loss tends to +inf at "
                    f"each, and the reference gives inf; the gradient is the derivative's limit: {gradient}.",
                    INF_AGAINST_LABELS, params=params_for(reduction), flags=("NonFiniteLogits", "SingleSample"))

    def along(suffix: str, reduction: str):
        return case(f"inf-logits-with-labels{suffix}",
                    f"Logit +inf with label 1 and -inf with label 0{weight}, {reduction}: each loss tends to 0 "
                    "(softplus(-x) at +inf, softplus(x) at -inf; the other term has weight 0 for every finite logit), "
                    "and the reference gives 0; the gradient tends to 0. Evaluating the zero-weighted term as "
                    "0 * softplus(+-inf) gives 0 * inf = NaN instead.",
                    INF_WITH_LABELS, params=params_for(reduction), flags=("NonFiniteLogits", "SingleSample"))

    return [made for make in (outside, nan_logit, against, along) for made in reductions(make)]


SOFTMAX_LOGITS = [[2.0, 0.5, 6.0], [0.1, 0.0, 3.0]]  # the tutorial's; the first sample's logit 0 is replaced


def softmax_inputs(first_logit: float, classes: list[int], dense: bool) -> dict:
    """Return the tutorial's logits with x[0, 0] replaced, and the classes as integer or one-hot labels."""
    logits = [[first_logit, *SOFTMAX_LOGITS[0][1:]], SOFTMAX_LOGITS[1]]
    labels = [[1.0 if k == c else 0.0 for k in range(3)] for c in classes] if dense else classes
    return {"logits": logits, "labels": labels}


# id -> (x[0, 0], the two samples' classes, the comment after "<the logits>, <labels>, <reduction>")
INFINITE_SOFTMAX = {
    "pos-inf-logit-on-label": (INF, [0, 1], (
        "the first loss log(1 + sum_j e^(x_j - x_0)) tends to 0 as x_0 grows (the +inf class takes all the "
        "probability), and mathematics and the reference give that limit, 0, with gradient softmax(x) - z = 0 on the "
        "sample. An evaluation that forms x_0 - max or logsumexp(x) - x_0 meets inf - inf and gives NaN, which "
        "misses it.")),
    "neg-inf-logit-on-label": (-INF, [0, 1], (
        "the labelled class's probability tends to 0, so the first loss tends to +inf and the reference gives inf; "
        "the gradient is the derivative's limit, softmax(x) - z: -1 at the -inf logit, the softmax of the finite "
        "logits elsewhere.")),
    "pos-inf-logit-off-label": (INF, [2, 1], (
        "the +inf class takes all the probability, so the labelled class's tends to 0 and the first loss to +inf, "
        "which the reference gives; the gradient tends to softmax(x) - z = [1, 0, -1] on that sample. Evaluations "
        "meeting inf - inf give NaN.")),
    "neg-inf-logit-off-label": (-INF, [2, 1], (
        "the -inf class has probability 0 exactly, so the first loss is the loss over the other two classes and its "
        "gradient 0 at the -inf logit.{naive}")),
}
ZERO_TIMES_INF = " Evaluating the unlabelled class's term as 0 * log_softmax = 0 * -inf gives NaN instead."


def softmax_cases(op: str, dense: bool) -> list:
    """Return the NonFiniteLogits cases of a softmax op: the tutorial's logits with one logit NaN, +inf or -inf."""
    label = "one-hot label" if dense else "label"

    def nan_logit(suffix: str, reduction: str):
        what = {"none": "the first sample's loss is NaN (its log-sum-exp runs over the NaN), the second keeps its "
                        "loss", "sum": "the sum is NaN", "mean": "the mean is NaN"}[reduction]
        return case(f"nan-logit{suffix}", f"The tutorial's logits with x[0, 0] NaN, {label}s 2 and 1 (the NaN is "
                    f"on no label), {reduction}: {what}.", softmax_inputs(NAN, [2, 1], dense),
                    params=params_for(reduction), flags=("NonFiniteLogits",))

    def infinite(case_id: str):
        first, classes, text = INFINITE_SOFTMAX[case_id]

        def make(suffix: str, reduction: str):
            lead = (f"The tutorial's logits with x[0, 0] = {'+' if first > 0 else ''}{first}, {label}s "
                    f"{classes[0]} and {classes[1]}, {reduction}: ")
            return case(f"{case_id}{suffix}", lead + text.format(naive=ZERO_TIMES_INF if dense else ""),
                        softmax_inputs(first, classes, dense), params=params_for(reduction), flags=("NonFiniteLogits",))

        return make

    makers = (nan_logit, *(infinite(case_id) for case_id in INFINITE_SOFTMAX))
    return [made for make in makers for made in reductions(make)]
