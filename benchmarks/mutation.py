"""Mutation score: the share of seeded model mutations the test suite kills (issue 16).

    python benchmarks/mutation.py [--mutants 24] [--seed 16] [--tests tests/test_x.py ...]
                                  [--oracle] [--timeout 600] [--out benchmarks/results/mutation.json]

Each mutant changes one site of the model's source, in every mechanism module (journey, consent,
outreach, social, trust, churn, incidents, population, network, parameters, metrics, market):

* ``const x1.25`` / ``const x0.8``: a float constant scaled;
* ``flip``: ``a + b`` <-> ``a - b`` in an expression that reads a parameter or a float;
* ``drop``: ``a + b``, ``a - b`` or ``a * b`` -> ``a`` (a term or a factor dropped).

Sites are drawn with a seeded generator, round-robin over the modules, so the same command gives
the same mutants. Every mutant runs in a temporary copy of the tree (nothing in the working tree
changes), with the Numba caches of the copy cleared, as ``python -m pytest -x -q`` on the chosen
tests (default: the fast model-checking tests below; ``--oracle`` adds the engine/reference
agreement test, tests/test_reference_agreement.py, whose power against parameter changes
``benchmarks/oracle_power.py`` measures). A mutant is *killed* if a test fails or errors (or it
times out), *survives* if every test passes. The script prints each mutant and the score, and
writes the record to ``--out``. Survivors are either gaps in the suite or equivalent mutants (no
observable effect); the report lists them for a reader to judge.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = (
    "journey",
    "consent",
    "outreach",
    "social",
    "trust",
    "churn",
    "incidents",
    "population",
    "network",
    "parameters",
    "metrics",
    "market",
)
FAST_TESTS = (
    "tests/test_equations.py",
    "tests/test_ledger.py",
    "tests/test_crn.py",
    "tests/test_model.py",
    "tests/test_bands.py",
)
ORACLE_TESTS = ("tests/test_reference_agreement.py",)
PARAM_NAMES = {"par", "inc", "brands", "lev", "self", "c", "o", "w", "j", "t"}
COPY = ("sim", "tests", "scenarios", "experiments", "docs", "README.md", "pyproject.toml")


@dataclass
class Mutant:
    module: str  # path relative to the root
    line: int
    op: str
    original: str
    replacement: str
    outcome: str = ""
    detail: str = ""
    seconds: float = 0.0


def module_path(stem: str) -> Path | None:
    """The module's file wherever it lives under sim/ (flat or in a subpackage)."""
    hits = sorted(
        p
        for p in (ROOT / "sim").rglob(f"{stem}.py")
        if "__pycache__" not in p.parts and "reference" not in p.parts  # the Mesa oracle
    )
    return hits[0] if hits else None


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _reads_parameter(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, float):
            return True
        if (
            isinstance(sub, ast.Attribute)
            and isinstance(sub.value, ast.Name)
            and sub.value.id in PARAM_NAMES
        ):
            return True
    return False


def _segment(lines: list[str], node: ast.AST) -> str | None:
    if node.lineno != node.end_lineno:
        return None
    return lines[node.lineno - 1][node.col_offset : node.end_col_offset]


def sites(path: Path) -> list[Mutant]:
    """Every mutation site of one module."""
    text = path.read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    skip = _docstring_nodes(tree)
    rel = str(path.relative_to(ROOT))
    out: list[Mutant] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, float)
            and node.value not in (0.0,)
        ):
            seg = _segment(lines, node)
            if seg is None:
                continue
            for factor in (1.25, 0.8):
                out.append(
                    Mutant(rel, node.lineno, f"const x{factor}", seg, repr(node.value * factor))
                )
        elif isinstance(node, ast.BinOp) and _reads_parameter(node):
            seg = _segment(lines, node)
            left, right = _segment(lines, node.left), _segment(lines, node.right)
            if seg is None or left is None or right is None:
                continue
            opsym = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}.get(type(node.op))
            if opsym is None:
                continue
            if opsym in "+-":
                flipped = "-" if opsym == "+" else "+"
                out.append(Mutant(rel, node.lineno, "flip", seg, f"{left} {flipped} ({right})"))
            out.append(Mutant(rel, node.lineno, "drop", seg, f"({left})"))
    return out


def choose(n: int, seed: int) -> list[Mutant]:
    """``n`` mutants, drawn with ``seed``, round-robin over the mechanism modules."""
    rng = random.Random(seed)
    pools = []
    for stem in MODULES:
        path = module_path(stem)
        if path is None:
            continue
        pool = sites(path)
        rng.shuffle(pool)
        if pool:
            pools.append(pool)
    chosen: list[Mutant] = []
    while len(chosen) < n and any(pools):
        for pool in pools:
            if pool and len(chosen) < n:
                chosen.append(pool.pop())
    return chosen


def apply(root: Path, m: Mutant) -> str:
    """Write the mutant into the copy at ``root``; return the original text to restore."""
    path = root / m.module
    original = path.read_text()
    lines = original.splitlines(keepends=True)
    line = lines[m.line - 1]
    assert m.original in line, (m, line)
    lines[m.line - 1] = line.replace(m.original, m.replacement, 1)
    path.write_text("".join(lines))
    return original


def clear_caches(root: Path) -> None:
    for pattern in ("*.nbi", "*.nbc"):
        for p in (root / "sim").rglob(pattern):
            p.unlink()


def run_tests(root: Path, tests: list[str], timeout: float) -> tuple[str, str, float]:
    env = {**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    start = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, cwd=root, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return "killed", "timeout", time.monotonic() - start
    seconds = time.monotonic() - start
    tail = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED", "ERROR"))]
    if proc.returncode == 0:
        return "survived", "", seconds
    return "killed", (tail[0] if tail else f"exit {proc.returncode}")[:160], seconds


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mutants", type=int, default=24)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--tests", nargs="+", default=list(FAST_TESTS))
    ap.add_argument("--oracle", action="store_true", help="add the reference agreement test")
    ap.add_argument("--timeout", type=float, default=600.0, help="seconds per mutant")
    ap.add_argument("--list", action="store_true", help="only list the mutants")
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "mutation.json")
    args = ap.parse_args()
    tests = list(args.tests) + (list(ORACLE_TESTS) if args.oracle else [])
    mutants = choose(args.mutants, args.seed)
    if args.list:
        for m in mutants:
            print(f"{m.module}:{m.line} {m.op:10s} {m.original!r} -> {m.replacement!r}")
        return 0
    with tempfile.TemporaryDirectory(prefix="omnitrust-mutation-") as tmp:
        root = Path(tmp)
        for name in COPY:
            src = ROOT / name
            if src.is_dir():
                shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__"))
            elif src.exists():
                shutil.copy2(src, root / name)
        outcome, detail, seconds = run_tests(root, tests, args.timeout)
        print(f"unmutated tree: {outcome} ({seconds:.0f} s)", flush=True)
        if outcome != "survived":
            print(f"the suite fails without mutation: {detail}", file=sys.stderr)
            return 1
        for k, m in enumerate(mutants, 1):
            original = apply(root, m)
            clear_caches(root)
            try:
                m.outcome, m.detail, m.seconds = run_tests(root, tests, args.timeout)
            finally:
                (root / m.module).write_text(original)
            print(
                f"[{k:2d}/{len(mutants)}] {m.outcome:8s} {m.seconds:5.0f} s  {m.module}:{m.line} "
                f"{m.op:10s} {m.original!r} -> {m.replacement!r}  {m.detail}",
                flush=True,
            )
        clear_caches(root)
    killed = sum(m.outcome == "killed" for m in mutants)
    score = killed / len(mutants) if mutants else float("nan")
    print(f"\nmutation score: {killed}/{len(mutants)} = {score:.0%} killed (seed {args.seed})")
    survivors = [m for m in mutants if m.outcome == "survived"]
    if survivors:
        print("survivors:")
        for m in survivors:
            print(f"  {m.module}:{m.line} {m.op} {m.original!r} -> {m.replacement!r}")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "command": " ".join(sys.argv),
        "seed": args.seed,
        "tests": tests,
        "killed": killed,
        "mutants": len(mutants),
        "score": score,
        "results": [asdict(m) for m in mutants],
    }
    args.out.write_text(json.dumps(record, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
