"""Mutation score: the share of seeded model mutations the test suite kills (issue 16).

    python benchmarks/mutation.py [--mutants 42] [--seed 16] [--workers 2] [--oracle]
                                  [--no-focus] [--tests tests/test_x.py ...] [--timeout S]
                                  [--list] [--modules churn ...]
                                  [--again RECORD [--survivors]]
                                  [--out benchmarks/results/mutation.json]

Each mutant changes one site of the model's source, in every mechanism module (MODULES below:
journey, consent, outreach, social, trust, churn, incidents, turnover, population, network,
parameters, metrics, market, costs):

* ``const x1.25`` / ``const x0.8``: a float constant scaled (constants below 1e-6 in magnitude
  are numerical guards against division by zero, not model constants, and are not mutated);
* ``param x1.25`` / ``param x0.8``: one read of a scenario parameter (``par.section.field``)
  scaled, as if the code used a wrong constant at that place (the model's constants live in the
  scenario schema since issue 8);
* ``flip``: ``a + b`` <-> ``a - b``, or ``-a`` -> ``a``;
* ``drop``: ``a + b``, ``a - b`` or ``a * b`` -> ``a`` (a term or a factor dropped).

Pure index or random-stream-slot arithmetic (``3 * b + 1``) is not mutated outside
sim/state/network.py (there the index arithmetic builds the ring lattice): a wrong slot only
relabels draws.

Sites are drawn with a seeded generator, round-robin over the modules (``--mutants``, three per
module by default), so the same command gives the same mutants. Then each mechanism added after
the first measurement (FOCUS below: the personalization share of margin, the losses to spam and
the spam share of s, subscribing after a purchase, forgetting in consumer blocks, the tally, the
digital-affinity guard, the covert-data reveal of a media story, the lever costs, need for touch
in J2) gets FOCUS_DRAWS more mutants, drawn with the same seed from the sites of its own lines
(``--no-focus``: without them). A mutant is *killed* if a test fails or errors (or the run exceeds the timeout),
*survives* if every test passes, and is *invalid* if Numba refuses to compile it (a typing
error: such a model cannot run at all, and it is left out of the score). Survivors that are documented equivalent mutants (EQUIVALENT
below: the change has no observable effect, with the reason) are left out of the score's
denominator; the record lists them with the reason.

The tests (``--tests``; default MODEL_TESTS, the suite's model-checking files; ``--oracle`` adds
the engine/reference agreement test tests/test_reference_agreement.py, whose power against
parameter changes ``benchmarks/oracle_power.py`` measures) exclude tests/test_fingerprint.py and
the README's quoted outputs: a digest fails on any change of any number and says nothing about
which rule is wrong, so it would make the figure meaningless.

What makes a mutant cheap (about a minute instead of several on the 2-core machine):

* the unmutated tree is copied once to a temporary folder and its tests run once (the agreement
  test in a second process): that compiles every Numba kernel into the copy's ``__pycache__`` and
  times every test file;
* each worker (``--workers``, default 2) gets its own copy of that warm tree; for a mutant it
  deletes the Numba caches of the mutated module and of every module that imports it
  (transitively, from the import statements: a kernel freezes the globals and the compiled
  callees it reads at compile time), so only those kernels recompile (the tests run with
  ``OMNITRUST_KERNEL_CACHE=by-file``, Numba's per-file keying: by default `sim.core.jit` keys
  the whole cache by the model's code, and every mutant would recompile every kernel);
  afterwards it restores the source and those caches from the warm tree (with their time
  stamps, which Numba checks);
* test files run fastest first with ``-x``, the files that killed earlier mutants of the same
  module first of all; the agreement test, the slowest, always last.

The script prints each mutant and the score and writes the record to ``--out``.
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MODULES = (
    "sim/mechanisms/journey.py",
    "sim/mechanisms/consent.py",
    "sim/mechanisms/outreach.py",
    "sim/mechanisms/social.py",
    "sim/mechanisms/trust.py",
    "sim/mechanisms/churn.py",
    "sim/mechanisms/incidents.py",
    "sim/mechanisms/turnover.py",
    "sim/state/population.py",
    "sim/state/network.py",
    "sim/state/parameters.py",
    "sim/mechanisms/metrics.py",
    "sim/model/market.py",
    "sim/mechanisms/costs.py",
)
MODEL_TESTS = (
    "tests/test_equations.py",
    "tests/test_ledger.py",
    "tests/test_crn.py",
    "tests/test_model.py",
    "tests/test_bands.py",
    "tests/test_rules.py",
    "tests/test_direction.py",
    "tests/test_incidents.py",
    "tests/test_email.py",
    "tests/test_transparency.py",
    "tests/test_market_flows.py",
    "tests/test_moved_constants.py",
    "tests/test_parameters.py",
    "tests/test_mesa_tools.py",
    "tests/test_phases.py",
)
ORACLE_TESTS = ("tests/test_reference_agreement.py",)
INDEX_NAMES = {"i", "j", "k", "b", "c", "d", "e", "n", "nb_", "slot", "base", "part", "gap"}
INDEX_NAMES |= {"brand", "channel", "start", "degree", "half", "m", "clock"}
INDEX_MODULES = ("sim/state/network.py",)  # the ring lattice's index arithmetic is the model
COPY = ("sim", "tests", "scenarios", "experiments", "docs", "README.md", "pyproject.toml")
GUARD = 1e-6  # constants smaller than this are numerical guards (x / max(y, 1e-9)), not model

# Mechanisms added after the first measurement (the spam ledger, the lever costs, the block
# kernels, the covert-data reveal by a media story, ...): a round-robin draw of three sites per
# module can miss a mechanism of a few lines, so each also gets FOCUS_DRAWS mutants of its own,
# drawn with the same seed from the sites of its lines: (what, module, the first line's text, the
# last line's text), lines matched on their stripped text (first match) so that they may move.
# Mechanisms with no mutation site: the policy switch on ``policy_from_day`` (a comparison and a
# copy of the lever table; tests/test_model.py checks it) and the block bounds of
# sim/core/blocks.py (index arithmetic; a wrong bound is caught through the kernels that use it,
# as for ``forget`` below; its other sites only split blocks over threads, with no effect).
FOCUS: tuple[tuple[str, str, str, str], ...] = (
    (
        "personalization share of margin (7.9)",
        "sim/mechanisms/journey.py",
        "e0 = util[b] * np.exp(-par.journey.relevance_weight * rho[b])",
        "counts[b, Event.personalization_margin] += margin * (1.0 - p0_over_p / uplift)",
    ),
    (
        "margin lost to spam (7.9)",
        "sim/mechanisms/journey.py",
        "def _attribute(pop, brands, par, i, util, rho, tb, total, counts):",
        "counts[b, Event.spam_losses] += lost * value * brands.gross_margin[b]",
    ),
    (
        "subscribing after a purchase (J4)",
        "sim/mechanisms/journey.py",
        "(not (pop.flags[i, b] & SUBSCRIBED))",
        "pop.flags[i, b] |= SUBSCRIBED",
    ),
    (
        "the spam share of s (7.9)",
        "sim/mechanisms/trust.py",
        "def add_against(s, spam_share, i, b, e, e_spam):",
        "add_against(pop.s, pop.spam_share, i, b, e, e)",
    ),
    (
        "forgetting in consumer blocks (T2)",
        "sim/mechanisms/trust.py",
        "def _forget_blocks(k0, k1, r, s, decay):",
        "s[j] *= decay",
    ),
    (
        "the tally's constants (7.9, 7.10)",
        "sim/mechanisms/metrics.py",
        "p10 = 1.0",
        "sums[8, b] = stated",
    ),
    (
        "the digital-affinity guard (initial draws)",
        "sim/state/population.py",
        "a = max(spec.digital_affinity, 1e-3) * spec.affinity_concentration",
        "b = max(1.0 - spec.digital_affinity, 1e-3) * spec.affinity_concentration",
    ),
    (
        "covert data revealed by a media story (C7)",
        "sim/mechanisms/consent.py",
        "def covert_surprise(pop, brands, par, i, b, counts):",
        "add_negative(pop, par, i, b, par.trust.covert_evidence * MAX_SENSITIVITY_OF_MASK[covert])",
    ),
    (
        "the lever costs (K1)",
        "sim/mechanisms/costs.py",
        "def spend_per_day(",
        "return cost_per_consumer_year * level**exponent * consumers * share / 365.0",
    ),
    (
        "need for touch and its share (J2)",
        "sim/mechanisms/journey.py",
        "nu_touch = par.journey.store_touch  # need for touch (J2): store weight, partly affinity-free",
        "w = RESEARCH_WEIGHT[c] * (2.0 * a if DIGITAL[c] else 2.0 * (1.0 - a) * keep + nu)",
    ),
)
FOCUS_DRAWS = 2

# Survivors with no observable effect: (module, the stripped source line, original, replacement)
# -> why. Matched on the line's text so that line numbers may move.
EQUIVALENT: dict[tuple[str, str, str, str], str] = {
    ("sim/mechanisms/journey.py", "1.0,", "1.0", "1.25"): (
        "journey.purchase caps the channel-switching probability with min(1.0, kappa0 + kappa1 "
        "integration) and stays if U >= switching with U in [0, 1): a cap of 1.25 changes the "
        "probability only where it is >= 1, and there U >= 1 and U >= 1.25 are both impossible"
    ),
    (
        "sim/mechanisms/journey.py",
        "top = par.derived.outside_utility",
        "par.derived.outside_utility",
        "(par.derived.outside_utility * 1.25)",
    ): (
        "top is only the start of the running maximum that shifts the logit utilities before "
        "exp() (J3 computes exp(U - top) / sum exp(U - top)); any shift cancels, so the choice "
        "probabilities are unchanged (up to rounding, far from overflow at these utilities)"
    ),
}
_P10 = (
    "trust_p10 starts at 1.0 before the scan of the histogram for the first bin where the "
    "cumulative count reaches 0.1 n; every consumer is in a bin, so the count reaches n >= 0.1 n "
    "at the last bin at the latest and the start value is always overwritten"
)
_BEST = (
    "each consumer's highest trust over the brands starts at -1.0 before max() over the brands "
    "(with nb_ > 1; the prior is the start only for nb_ == 1, where no max is taken); trust (T1) "
    "is in [0, 1], so any start below 0 gives the same maximum"
)
_TOP = "top = np.full(m, prior if nb_ == 1 else -1.0)"
_ABOVE = (
    "a consumer who is not breach-aware gets a sentinel above any trust in their row of the "
    "say/do tally, so that `row[j] < top[j]` (the stated intent to leave) is false for them; "
    "trust (T1) is in [0, 1], so any sentinel above 1 (2.0, 2.5 or 1.6) counts the same"
)
_ROW = "row[i] = t if aware else 2.0"
EQUIVALENT |= {
    ("sim/mechanisms/metrics.py", _ROW, "2.0", "2.5"): _ABOVE,
    ("sim/mechanisms/metrics.py", _ROW, "2.0", "1.6"): _ABOVE,
    ("sim/mechanisms/metrics.py", "p10 = 1.0", "1.0", "1.25"): _P10,
    ("sim/mechanisms/metrics.py", "p10 = 1.0", "1.0", "0.8"): _P10,
    ("sim/mechanisms/metrics.py", _TOP, "1.0", "1.25"): _BEST,
    ("sim/mechanisms/metrics.py", _TOP, "1.0", "0.8"): _BEST,
}


@dataclass
class Mutant:
    module: str  # path relative to the root
    line: int
    op: str
    original: str
    replacement: str
    source: str = ""  # the stripped source line before the mutation
    outcome: str = ""
    detail: str = ""
    seconds: float = 0.0
    equivalent: str = ""

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.module, self.source, self.original, self.replacement)


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
            body = getattr(node, "body", [])
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _is_index_arithmetic(node: ast.AST) -> bool:
    """Pure index or stream-slot arithmetic (``3 * b + 1``, ``i + 1``, ``SLOTS * e``): an array
    position or a random-stream slot, not a model equation (a wrong slot only relabels draws)."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and not isinstance(sub.value, int):
            return False
        if isinstance(sub, ast.Name) and not (
            sub.id in INDEX_NAMES or sub.id.lstrip("_").isupper()
        ):
            return False
        if isinstance(sub, ast.Attribute | ast.Subscript | ast.Call):
            return False
    return True


def _not_a_number(node: ast.AST) -> bool:
    """Lists, tuples and strings: ``+`` joins them, no arithmetic to mutate."""
    return isinstance(node, ast.List | ast.ListComp | ast.Tuple | ast.JoinedStr) or (
        isinstance(node, ast.Constant) and isinstance(node.value, str)
    )


def _parameter_read(node: ast.AST) -> bool:
    """``par.section.field`` (a scenario parameter as the kernels read it), read as a value."""
    return (
        isinstance(node, ast.Attribute)
        and isinstance(node.ctx, ast.Load)
        and isinstance(node.value, ast.Attribute)
        and isinstance(node.value.value, ast.Name)
        and node.value.value.id == "par"
    )


def _segment(lines: list[str], node: ast.AST) -> str | None:
    if node.lineno != node.end_lineno:
        return None
    return lines[node.lineno - 1][node.col_offset : node.end_col_offset]


def sites(rel: str) -> list[Mutant]:
    """Every mutation site of one module, in source order."""
    text = (ROOT / rel).read_text()
    lines = text.splitlines()
    tree = ast.parse(text)
    skip = _docstring_nodes(tree)
    out: list[Mutant] = []
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        src = lines[node.lineno - 1].strip() if hasattr(node, "lineno") else ""
        if isinstance(node, ast.Constant) and isinstance(node.value, float):
            if abs(node.value) < GUARD:
                continue
            seg = _segment(lines, node)
            if seg is None:
                continue
            for factor in (1.25, 0.8):
                out.append(
                    Mutant(
                        rel, node.lineno, f"const x{factor}", seg, repr(node.value * factor), src
                    )
                )
        elif _parameter_read(node):
            seg = _segment(lines, node)
            if seg is None:
                continue
            for factor in (1.25, 0.8):
                out.append(
                    Mutant(rel, node.lineno, f"param x{factor}", seg, f"({seg} * {factor})", src)
                )
        elif (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and not isinstance(node.operand, ast.Constant)
        ):
            seg, inner = _segment(lines, node), _segment(lines, node.operand)
            if seg is not None and inner is not None:
                out.append(Mutant(rel, node.lineno, "flip", seg, f"({inner})", src))
        elif isinstance(node, ast.BinOp) and (
            rel in INDEX_MODULES or not _is_index_arithmetic(node)
        ):
            seg = _segment(lines, node)
            left, right = _segment(lines, node.left), _segment(lines, node.right)
            if seg is None or left is None or right is None:
                continue
            opsym = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*"}.get(type(node.op))
            if opsym is None or any(_not_a_number(x) for x in (node.left, node.right)):
                continue
            if opsym in "+-":
                flipped = "-" if opsym == "+" else "+"
                out.append(
                    Mutant(rel, node.lineno, "flip", seg, f"{left} {flipped} ({right})", src)
                )
            out.append(Mutant(rel, node.lineno, "drop", seg, f"({left})", src))
    return sorted(out, key=lambda m: (m.line, m.op, m.original, m.replacement))


def choose(n: int, seed: int, modules=MODULES) -> list[Mutant]:
    """``n`` mutants, drawn with ``seed``, round-robin over the mechanism modules."""
    rng = random.Random(seed)
    pools = []
    for rel in modules:
        pool = sites(rel)
        rng.shuffle(pool)
        if pool:
            pools.append(pool)
    chosen: list[Mutant] = []
    while len(chosen) < n and any(pools):
        for pool in pools:
            if pool and len(chosen) < n:
                chosen.append(pool.pop())
    return chosen


def focus_sites(rel: str, first: str, last: str) -> list[Mutant]:
    """The sites of ``rel`` on the lines from the one reading ``first`` to the next reading
    ``last`` (stripped text)."""
    lines = [line.strip() for line in (ROOT / rel).read_text().splitlines()]
    if first not in lines:
        raise SystemExit(f"mutation.py: FOCUS: {rel} has no line {first!r} (update FOCUS)")
    lo = lines.index(first) + 1
    if last not in lines[lo - 1 :]:
        raise SystemExit(f"mutation.py: FOCUS: {rel} has no line {last!r} after {first!r}")
    hi = lines.index(last, lo - 1) + 1
    return [m for m in sites(rel) if lo <= m.line <= hi]


def choose_focus(seed: int, chosen: list[Mutant], modules=MODULES) -> list[Mutant]:
    """FOCUS_DRAWS mutants for each FOCUS mechanism (of ``modules``), drawn with ``seed`` from its
    sites that ``chosen`` does not hold already."""
    rng = random.Random(f"focus-{seed}")
    taken = {m.key for m in chosen}
    out: list[Mutant] = []
    for _, rel, first, last in FOCUS:
        if rel not in modules:
            continue
        pool = [m for m in focus_sites(rel, first, last) if m.key not in taken]
        rng.shuffle(pool)
        for m in pool[:FOCUS_DRAWS]:
            taken.add(m.key)
            out.append(m)
    return out


# -- which compiled caches a mutant invalidates -------------------------------------------------


def _module_name(rel: str) -> str:
    return rel[: -len(".py")].replace("/", ".").removesuffix(".__init__")


def _imports(path: Path, name: str) -> set[str]:
    """The sim modules ``path`` (module ``name``) imports, as dotted names."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names if a.name.startswith("sim")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if mod.startswith("sim"):
                out.add(mod)
                out |= {f"{mod}.{a.name}" for a in node.names}  # `from . import x`
    return out


def dependents(root: Path) -> dict[str, set[str]]:
    """For each module file (relative path), itself and every file importing it, transitively."""
    files = {
        _module_name(str(p.relative_to(root))): str(p.relative_to(root))
        for p in (root / "sim").rglob("*.py")
        if "__pycache__" not in p.parts
    }
    importers: dict[str, set[str]] = defaultdict(set)
    for name, rel in files.items():
        for mod in _imports(root / rel, name):
            while mod:  # importing a.b.c runs a/__init__ and a/b/__init__ too
                if mod in files:
                    importers[mod].add(name)
                mod = mod.rpartition(".")[0]
    out = {}
    for name, rel in files.items():
        seen, todo = {name}, [name]
        while todo:
            for up in importers[todo.pop()]:
                if up not in seen:
                    seen.add(up)
                    todo.append(up)
        out[rel] = {files[s] for s in seen}
    return out


def _caches(root: Path, rel: str) -> list[Path]:
    src = root / rel
    stem = src.stem
    folder = src.parent / "__pycache__"
    if not folder.is_dir():
        return []
    return [
        p
        for p in folder.iterdir()
        if p.name.startswith(stem + ".") and p.suffix in (".nbi", ".nbc", ".pyc")
    ]


# -- running ---------------------------------------------------------------------------------


def run_tests(
    root: Path, tests: list[str], timeout: float, junit: Path | None = None
) -> tuple[str, str, float]:
    env = {**os.environ, "PYTHONPATH": str(root), "MPLBACKEND": "Agg"}
    env.pop("NUMBA_CACHE_DIR", None)  # caches next to the sources of this copy,
    env["OMNITRUST_KERNEL_CACHE"] = "by-file"  # keyed per file: `_caches` removes the stale ones
    # no per-test time limits (pytest-timeout): on a loaded machine they would kill mutants
    # for being slow; the whole run has --timeout
    cmd = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", "-p", "no:timeout"]
    cmd += tests
    if junit is not None:
        cmd.append(f"--junitxml={junit}")
    start = time.monotonic()
    proc = subprocess.Popen(
        cmd,
        cwd=root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # the agreement test's worker processes die with it
    )
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return "killed", "timeout", time.monotonic() - start
    seconds = time.monotonic() - start
    tail = [line for line in out.splitlines() if line.startswith(("FAILED", "ERROR"))]
    if proc.returncode == 0:
        return "survived", "", seconds
    if "TypingError" in out or "LoweringError" in out:  # Numba refused to compile the mutant
        return "invalid", (tail[0] if tail else "does not compile")[:200], seconds
    return "killed", (tail[0] if tail else f"exit {proc.returncode}")[:200], seconds


def file_seconds(junit: Path) -> dict[str, float]:
    """Seconds per test file from a JUnit XML report."""
    out: dict[str, float] = defaultdict(float)
    for case in ET.parse(junit).getroot().iter("testcase"):
        module = case.get("classname", "").split(".")
        if len(module) >= 2:
            out[f"{module[0]}/{module[1]}.py"] += float(case.get("time", 0.0))
    return dict(out)


def copy_tree(src: Path, dst: Path, with_caches: bool) -> None:
    ignore = None if with_caches else shutil.ignore_patterns("__pycache__")
    for name in COPY:
        s = src / name
        if s.is_dir():
            shutil.copytree(s, dst / name, ignore=ignore)  # copy2: time stamps kept
        elif s.exists():
            shutil.copy2(s, dst / name)


class Worker:
    """One copy of the warm tree that runs mutants one at a time."""

    def __init__(self, warm: Path, root: Path, deps: dict[str, set[str]]):
        self.warm, self.root, self.deps = warm, root, deps
        copy_tree(warm, root, with_caches=True)

    def run(self, m: Mutant, tests: list[str], timeout: float) -> None:
        touched = self.deps.get(m.module, {m.module})
        for rel in touched:
            for p in _caches(self.root, rel):
                p.unlink()
        path = self.root / m.module
        lines = path.read_text().splitlines(keepends=True)
        if lines[m.line - 1].strip() != m.source:  # the module changed since: find the line
            hits = [k for k, line in enumerate(lines, 1) if line.strip() == m.source]
            if len(hits) != 1:
                m.outcome, m.detail = "stale", "the mutated line is no longer in the module"
                return
            m.line = hits[0]
        assert m.original in lines[m.line - 1], (m, lines[m.line - 1])
        lines[m.line - 1] = lines[m.line - 1].replace(m.original, m.replacement, 1)
        path.write_text("".join(lines))
        try:
            m.outcome, m.detail, m.seconds = run_tests(self.root, tests, timeout)
        finally:
            shutil.copy2(self.warm / m.module, path)
            for rel in touched:
                for p in _caches(self.root, rel):
                    p.unlink()
                for p in _caches(self.warm, rel):
                    shutil.copy2(p, self.root / p.relative_to(self.warm))


def drawing_command(argv: list[str]) -> str:
    """The command line that draws the mutants of a run, without where it wrote or re-ran."""
    out, skip = [], 0
    for a in argv:
        if skip:
            skip -= 1
        elif a in ("--out", "--again"):
            skip = 1
        elif a != "--survivors":
            out.append(a)
    return " ".join(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument(
        "--mutants", type=int, default=42, help="mutants drawn round-robin over the modules"
    )
    ap.add_argument(
        "--no-focus",
        action="store_true",
        help=f"without the {FOCUS_DRAWS} extra mutants of each FOCUS mechanism",
    )
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    ap.add_argument("--tests", nargs="+", default=list(MODEL_TESTS))
    ap.add_argument("--oracle", action="store_true", help="add the reference agreement test")
    ap.add_argument(
        "--timeout", type=float, help="seconds per mutant (default: 3 x the unmutated run + 5 min)"
    )
    ap.add_argument("--list", action="store_true", help="only list the mutants")
    ap.add_argument(
        "--again", type=Path, help="run the mutants of an earlier record instead of drawing them"
    )
    ap.add_argument(
        "--survivors",
        action="store_true",
        help="with --again: only its survivors (tests added since can only kill more); the "
        "record keeps the earlier kills",
    )
    ap.add_argument(
        "--modules", nargs="+", help="only these modules' sites (names: churn, network, ...)"
    )
    ap.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "mutation.json")
    args = ap.parse_args()
    tests = [t for t in args.tests if (ROOT / t.split("::")[0]).exists()]
    oracle = list(ORACLE_TESTS) if args.oracle else []
    modules = [m for m in MODULES if not args.modules or Path(m).stem in args.modules]
    mutants = choose(args.mutants, args.seed, modules)
    if not args.no_focus:
        mutants += choose_focus(args.seed, mutants, modules)
    kept: list[Mutant] = []  # --again --survivors: earlier kills, kept as they were
    if args.again:
        previous = json.loads(args.again.read_text())
        fields = Mutant.__dataclass_fields__
        mutants = [
            Mutant(**{k: v for k, v in r.items() if k in fields}) for r in previous["results"]
        ]
        if args.survivors:
            for m in mutants:  # a documented equivalent survives any test: no need to re-run
                if m.outcome == "survived":
                    m.equivalent = EQUIVALENT.get(m.key, "")
            kept = [m for m in mutants if m.outcome != "survived" or m.equivalent]
            mutants = [m for m in mutants if m.outcome == "survived" and not m.equivalent]
        for m in mutants:
            m.outcome = m.detail = m.equivalent = ""
            m.seconds = 0.0
    if args.list:
        for m in mutants:
            print(f"{m.module}:{m.line} {m.op:10s} {m.original!r} -> {m.replacement!r}")
        return 0
    rerun = len(mutants)

    def everything() -> list[Mutant]:
        return sorted(kept + mutants, key=lambda m: (MODULES.index(m.module), m.line, m.op))

    def summary() -> tuple[int, int, int]:
        ms = everything()
        equivalent = sum(bool(m.equivalent) for m in ms)
        invalid = sum(m.outcome == "invalid" for m in ms)
        stale = sum(m.outcome == "stale" for m in ms)  # --again after the module changed
        return len(ms) - equivalent - invalid - stale, equivalent, invalid

    def write_record(complete: bool) -> None:
        """The record so far (after every mutant, so a long run that is stopped keeps it)."""
        ms = everything()
        killed = sum(m.outcome == "killed" for m in ms)
        scored, equivalent, invalid = summary()
        run = {
            "command": drawing_command(["python", Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
            "date": started.isoformat(timespec="seconds"),
            "minutes": round((time.monotonic() - t0) / 60, 1),
            "mutants_run": rerun,
            "tests": tests + oracle,
        }
        runs = [run]
        if args.again and args.survivors:  # the earlier kills stand: list both runs
            earlier = previous.get("runs") or [
                {
                    "command": drawing_command(previous["command"].split()),
                    "date": previous["date"],
                    "minutes": previous.get("minutes"),
                    "mutants_run": previous["mutants"],
                    "tests": previous["tests"],
                }
            ]
            runs = [*earlier, run]
        record = {
            "command": runs[0]["command"],
            "date": run["date"],
            "complete": complete,
            "seed": previous["seed"] if args.again else args.seed,
            "runs": runs,
            "mutants": len(ms),
            "equivalent": equivalent,
            "invalid": invalid,
            "stale": sum(m.outcome == "stale" for m in ms),
            "killed": killed,
            "score": killed / scored if scored else float("nan"),
            "results": [asdict(m) for m in ms],
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        tmp_out = args.out.with_suffix(".tmp")
        tmp_out.write_text(json.dumps(record, indent=2) + "\n")
        tmp_out.replace(args.out)

    started = dt.datetime.now().astimezone()
    t0 = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="omnitrust-mutation-") as tmp:
        warm = Path(tmp) / "warm"
        copy_tree(ROOT, warm, with_caches=False)
        # the unmutated suite, split over the workers (the agreement test, the slowest file,
        # alone when there are two): it must pass, compiles every kernel into the warm tree
        # and times every file
        groups = [tests + oracle] if args.workers < 2 or not oracle else [tests, oracle]
        with ThreadPoolExecutor(len(groups)) as pool:
            runs = list(
                pool.map(
                    lambda kg: run_tests(warm, kg[1], 3600.0, Path(tmp) / f"unmutated{kg[0]}.xml"),
                    enumerate(groups),
                )
            )
        seconds = max(r[2] for r in runs)
        failed = [r[1] for r in runs if r[0] != "survived"]
        print(f"unmutated tree: {'fails' if failed else 'passes'} ({seconds:.0f} s)", flush=True)
        if failed:
            print(f"the suite fails without mutation: {failed[0]}", file=sys.stderr)
            return 1
        per_file = {}
        for k in range(len(groups)):
            per_file |= file_seconds(Path(tmp) / f"unmutated{k}.xml")
        timeout = args.timeout or 3 * sum(per_file.values()) + 300.0
        deps = dependents(warm)
        workers = [Worker(warm, Path(tmp) / f"w{k}", deps) for k in range(max(1, args.workers))]
        free = list(workers)
        lock = threading.Lock()
        killers: dict[str, Counter] = defaultdict(Counter)  # module -> file -> kills
        done = [0]

        def order(m: Mutant) -> list[str]:
            with lock:
                hits = killers[m.module]
            return sorted(tests, key=lambda f: (-hits[f], per_file.get(f, 0.0))) + oracle

        def one(m: Mutant) -> None:
            with lock:
                w = free.pop()
            try:
                w.run(m, order(m), timeout)
            finally:
                with lock:
                    free.append(w)
                    done[0] += 1
                    k = done[0]
                    if m.outcome == "killed" and "::" in m.detail:
                        killers[m.module][m.detail.split()[1].split("::")[0]] += 1
            if m.outcome == "survived":
                m.equivalent = EQUIVALENT.get(m.key, "")
            with lock:
                write_record(False)
            print(
                f"[{k:2d}/{len(mutants)}] {m.outcome:8s} {m.seconds:5.0f} s  {m.module}:{m.line} "
                f"{m.op:10s} {m.original!r} -> {m.replacement!r}  {m.detail}"
                f"{'  (equivalent)' if m.equivalent else ''}",
                flush=True,
            )

        with ThreadPoolExecutor(len(workers)) as pool:
            list(pool.map(one, mutants))
    write_record(True)
    killed = sum(m.outcome == "killed" for m in everything())
    scored, equivalent, invalid = summary()
    print(
        f"\nmutation score: {killed} of {scored} mutants killed ({killed / max(scored, 1):.0%}; "
        f"seed {args.seed}; {equivalent} documented equivalent and {invalid} that do not compile "
        f"left out; {(time.monotonic() - t0) / 60:.0f} min)"
    )
    survivors = [m for m in everything() if m.outcome == "survived" and not m.equivalent]
    if survivors:
        print("survivors:")
        for m in survivors:
            print(f"  {m.module}:{m.line} {m.op} {m.original!r} -> {m.replacement!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
