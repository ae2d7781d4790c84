"""The floating dtypes the kit checks, as NumPy dtypes (bfloat16 through ml_dtypes)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

DTYPES = ("float16", "bfloat16", "float32", "float64")


def numpy_dtype(name: str) -> np.dtype:
    """Return the NumPy dtype for a dtype name; bfloat16 needs the ml_dtypes package."""
    import numpy as np  # here, not at the top: the pytest plugin reads DTYPES at every pytest start

    if name == "bfloat16":
        try:
            import ml_dtypes
        except ImportError:
            raise ValueError("bfloat16 needs the ml_dtypes package (pip install ml_dtypes)") from None
        return np.dtype(ml_dtypes.bfloat16)
    if name not in DTYPES:
        raise ValueError(f"unknown dtype {name!r}; known: {', '.join(DTYPES)}")
    return np.dtype(name)


def round_to(values: np.ndarray, name: str) -> np.ndarray:
    """Return ``values`` rounded to the dtype ``name`` (round to nearest even)."""
    import numpy as np

    return np.asarray(values).astype(numpy_dtype(name), copy=False)  # no copy when already in the dtype: model-scale inputs are large


def widen(inputs: dict) -> dict:
    """Return the inputs with floating arrays (bfloat16 included) as float64 and integer labels unchanged."""
    import numpy as np

    return {k: v if np.issubdtype(v.dtype, np.integer) else v.astype(np.float64) for k, v in inputs.items()}
