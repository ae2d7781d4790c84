"""Run reproducer scripts in this process, then the kit's own call for each same check; print JSON.

    python script_driver.py MANIFEST.json

MANIFEST lists {"script": path, "record": check record}. For each, the script
runs first (as ``__main__``, its prints captured, its ``sys.exit`` caught),
then the record's adapter computes the same check the way the kit's worker
does (conformance.check.build_callable on the dtype-rounded inputs). One
process per framework: importing TensorFlow once, not once per script.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

import numpy as np


def run_script(path: str) -> dict:
    space = {"__name__": "__main__", "__file__": path}
    out = io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out):
        try:
            exec(compile(open(path, encoding="utf-8").read(), path, "exec"), space)
        except SystemExit as exc:
            code = exc.code or 0
    actual = space.get("actual")
    return {"exit": code, "stdout": out.getvalue(), "actual": _flat(actual)}


def _flat(array) -> dict | None:
    if array is None:
        return None
    array = np.asarray(array)
    values = [repr(float(v)) for v in array.reshape(-1)]
    return {"shape": list(array.shape), "dtype": str(array.dtype), "values": values}


_LOADED: dict = {}


def kit_actual(record: dict) -> dict:
    """Return the kit's own actual for the record's check, computed as conformance.check computes it."""
    from conformance.adapter import resolve_adapter
    from conformance.check import rounded_inputs, build_callable
    from conformance.loader import load_paths

    name = record["framework"]
    if name not in _LOADED:
        adapter = resolve_adapter(name)
        _LOADED[name] = (adapter, adapter.load())
    adapter, fw = _LOADED[name]
    case = next(c for c in load_paths([record["file"]]).cases if c.id == record["case"] and c.op == record["op"])
    binding = next(b for b in adapter.bindings if (b.op, b.name) == (record["op"], record["binding"]))
    inputs = rounded_inputs(case, record["dtype"])[0]
    fn = build_callable(adapter, fw, binding, dict(case.params), record["mode"], record["quantity"] or "value")
    converted = {k: adapter.to_framework(fw, v, record["dtype"], record["device"]) for k, v in inputs.items()}
    return _flat(np.asarray(adapter.to_numpy(fw, fn(converted))).astype(np.float64))


def main(manifest: str) -> None:
    entries = json.load(open(manifest, encoding="utf-8"))
    results = [run_script(e["script"]) for e in entries]  # every script before the kit touches the framework
    for entry, result in zip(entries, results):
        result["kit"] = kit_actual(entry["record"])
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
