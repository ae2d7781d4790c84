"""The shared seed tutorial's examples: inputs and printed output, as published (for the op modules)."""

SOURCE = "shared seed tutorial (cnblogs, 2022-09-05, 'loss functions: MSE and cross-entropy')"

# Section 2.1: five samples, three independent labels each.
SIGMOID_LABELS = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0], [1.0, 1.0, 0.0], [0.0, 1.0, 0.0]]
SIGMOID_LOGITS = [[12.0, 3.0, 2.0], [3.0, 10.0, 1.0], [1.0, 2.0, 5.0], [4.0, 6.5, 1.2], [3.0, 6.0, 1.0]]
# Section 2.1's printed output (E1 = E2), 9 significant digits, copied from the tutorial text.
SIGMOID_PRINTED = [
    [6.14419348e-06, 3.04858735e00, 2.12692801e00],
    [3.04858735e00, 4.53988992e-05, 1.31326169e00],
    [1.31326169e00, 2.12692801e00, 6.71534849e-03],
    [1.81499279e-02, 1.50231016e-03, 1.46328247e00],
    [3.04858735e00, 2.47568514e-03, 1.31326169e00],
]

# Section 2.3: two samples, three classes, integer labels (no output printed).
SPARSE_LOGITS = [[2.0, 0.5, 6.0], [0.1, 0.0, 3.0]]
SPARSE_LABELS = [2, 1]
ONEHOT_LABELS = [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0]]
