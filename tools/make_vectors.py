"""Write vectors/<op>.yaml from the case definitions in tools/vectorgen/ (or check the files are current).

    python tools/make_vectors.py            # regenerate every file
    python tools/make_vectors.py --check    # exit 1, naming the files, if any file differs from its regeneration

Expected values come from conformance.reference and expected gradients from
conformance.gradients, on float64 inputs; generated cases get neither (they are
computed when the case runs). The output is deterministic, so a second run
reproduces the files byte for byte.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vectorgen import binary, categorical, dense_softmax, mse, nll, sigmoid, sparse_softmax, weighted  # noqa: E402
from vectorgen.emit import render  # noqa: E402

MODULES = (mse, sigmoid, weighted, dense_softmax, sparse_softmax, binary, categorical, nll)
DEFAULT_OUT = Path(__file__).resolve().parent.parent / "vectors"


def render_all() -> dict[str, str]:
    """Return the text of every vector file, by file name."""
    texts = {}
    for module in MODULES:
        doc = module.build_document()
        texts[f"{doc['op']}.yaml"] = render(doc)
    return texts


def check(out: Path, texts: dict[str, str]) -> list[str]:
    """Return a short diff for every file under ``out`` that differs from its regeneration."""
    stale = []
    for name, text in texts.items():
        path = out / name
        old = path.read_text(encoding="utf-8") if path.exists() else ""
        if old != text:
            diff = difflib.unified_diff(old.splitlines(), text.splitlines(), str(path), "regenerated", lineterm="", n=1)
            stale.append("\n".join(list(diff)[:20]))
    return stale


def main(argv: list[str] | None = None) -> int:
    """Regenerate (or with --check, verify) the vector files; return the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="write nothing; fail if a file is not current")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="directory of the vector files")
    args = parser.parse_args(argv)
    texts = render_all()
    if args.check:
        stale = check(args.out, texts)
        for report in stale:
            print(report)
        if stale:
            print(f"{len(stale)} vector file(s) differ from tools/make_vectors.py output; rerun it", file=sys.stderr)
        return 1 if stale else 0
    args.out.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (args.out / name).write_text(text, encoding="utf-8")
        print(f"wrote {args.out / name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
