"""What a run costs, measured in one go (a script, not a test: these machines are noisy).

1. The kit's overhead per check against a bare loop that calls the same native
   ops on the same inputs (convert in, call, convert out), on the tutorial-size
   cases, eager, float32: the ratio kit time / bare time per framework.
2. The wall time of ``run --dtypes float16,bfloat16,float32,float64 --modes
   eager,compiled --grad`` over every installed framework, framework imports
   included, against the 90 s target.
3. The workers' peak memory on the language-model-scale case (4096 x 32000
   sparse cross-entropy, float32) against the memory of its inputs.

Usage: python benchmarks/cost.py [--skip-full] [--skip-memory] [--full-cases PATTERNS]
                                 [--full-frameworks LIST] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FRAMEWORKS = ("numpy", "torch", "tensorflow", "jax")
REPEATS = 200


def overhead(framework: str) -> dict:
    """Return kit and bare seconds per check for one framework (runs in its own process)."""
    from conformance.adapter import load_adapter, missing_requirement
    from conformance.check import CallCache, TargetCache, rounded_inputs, run_check
    from conformance.loader import load_paths

    adapter = load_adapter(framework)
    if missing_requirement(adapter):
        return {"framework": framework, "skipped": missing_requirement(adapter)}
    fw = adapter.load()
    cases = [c for c in load_paths().cases if c.id.startswith("tutorial") and c.outcome == "value"]
    pairs = [(c, b) for c in cases for b in adapter.bindings
             if b.op == c.op and b.default and not b.not_applicable(c.inputs, c.params)]
    cache = CallCache()
    for case, binding in pairs:  # warm up: first calls, caches
        run_check(adapter, fw, binding, case, "float32", "eager", "cpu", "value", cache)
    start = time.perf_counter()
    for _ in range(REPEATS):
        targets = TargetCache()  # as in a fresh run: expected values and bounds computed once per case and dtype
        for case, binding in pairs:
            run_check(adapter, fw, binding, case, "float32", "eager", "cpu", "value", cache, targets)
    kit = (time.perf_counter() - start) / (REPEATS * len(pairs))
    prepared = [(rounded_inputs(c, "float32")[0], c.params, b) for c, b in pairs]
    start = time.perf_counter()
    for _ in range(REPEATS):
        for inputs, params, binding in prepared:
            converted = {k: adapter.to_framework(fw, v, "float32", "cpu") for k, v in inputs.items()}
            adapter.to_numpy(fw, binding.fn(fw, converted, params))
    bare = (time.perf_counter() - start) / (REPEATS * len(prepared))
    return {"framework": framework, "checks": len(pairs), "kit_us": kit * 1e6, "bare_us": bare * 1e6,
            "ratio": kit / bare}


def measure_overheads() -> list[dict]:
    results = []
    for framework in FRAMEWORKS:
        done = subprocess.run([sys.executable, __file__, "--overhead-of", framework], capture_output=True, text=True)
        if done.returncode != 0:
            results.append({"framework": framework, "error": done.stderr.strip().splitlines()[-1:]})
            continue
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return results


def full_run(out: Path, cases: str | None, frameworks: str | None) -> dict:
    selection = (["--cases", cases] if cases else []) + (["--frameworks", frameworks] if frameworks else [])
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "conformance", "run", "--dtypes", "float16,bfloat16,float32,float64",
                           "--modes", "eager,compiled", "--grad", "--quiet", "--out", str(out), *selection],
                          capture_output=True, text=True)
    seconds = time.perf_counter() - start
    records = [json.loads(line) for line in out.read_text().splitlines()]
    summary = records[-1]
    return {"selection": selection or "every case, every installed framework", "seconds": seconds, "target_s": 90, "ratio_to_target": seconds / 90, "exit_code": done.returncode,
            "counts": summary.get("counts"), "checks": sum(1 for r in records if r.get("record") == "check")}


def lm_memory(out: Path) -> list[dict]:
    """Return, per framework, the worker's peak RSS on the LM-scale case and on a tiny case."""
    inputs_mb = (4096 * 32000 * 4 + 4096 * 8) / 2**20
    results = []
    for framework in FRAMEWORKS:
        peaks = {}
        for label, cases in (("tiny", "tutorial-2x3"), ("lm", "lm-4096x32000")):
            subprocess.run([sys.executable, "-m", "conformance", "run", "--frameworks", framework, "--large",
                            "--ops", "sparse_softmax_cross_entropy", "--cases", cases, "--dtypes", "float32",
                            "--quiet", "--out", str(out)], capture_output=True, text=True)
            rows = [json.loads(line) for line in out.read_text().splitlines()]
            peaks[label] = max((r.get("peak_rss_mb") or 0 for r in rows if r.get("record") == "check"), default=0)
        if not peaks["lm"]:
            results.append({"framework": framework, "skipped": "no check ran"})
            continue
        results.append({"framework": framework, "inputs_mb": inputs_mb, "peak_mb": peaks["lm"],
                        "baseline_mb": peaks["tiny"], "ratio_over_baseline": (peaks["lm"] - peaks["tiny"]) / inputs_mb})
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--overhead-of", help=argparse.SUPPRESS)
    parser.add_argument("--skip-full", action="store_true")
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--full-cases", help="limit the timed full run to these case patterns (default: all)")
    parser.add_argument("--full-frameworks", help="limit the timed full run to these frameworks (default: all)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    if args.overhead_of:
        print(json.dumps(overhead(args.overhead_of)))
        return
    figures: dict = {"overhead": measure_overheads()}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_full:
            figures["full_run"] = full_run(Path(tmp) / "full.jsonl", args.full_cases, args.full_frameworks)
        if not args.skip_memory:
            figures["lm_memory"] = lm_memory(Path(tmp) / "lm.jsonl")
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
