"""Mutation testing of one module: do the tests notice a wrong amount?

    .venv/bin/python scripts/mutation.py lending/finance/kernel.py \
        [--tests tests/finance ...] [--jobs N] [--timeout-factor F] [--only LINE,...] [--json OUT]

Our own AST mutator rather than mutmut or cosmic-ray: the bugs that cost a borrower money
are rounding-mode swaps (ROUND_HALF_UP <-> ROUND_HALF_EVEN / ROUND_DOWN / ROUND_UP /
ROUND_CEILING), min <-> max (and np.minimum <-> np.maximum, floor <-> ceil) and a changed
Decimal-string constant (Decimal("0.01") -> "0.02"), which the generic tools do not make.

Operators: comparison swaps (< <= > >= == != is in, and their negation), `not` removed,
arithmetic swaps (+ - * / // % ** << >> & | ^, also in augmented assignment), unary minus
removed, numeric constants +1 / -1, Decimal("...") constants +/- one in the last digit,
rounding-mode swaps, min <-> max, True <-> False, `and` <-> `or`, statement deletion (an
expression, assignment, raise, `if` without else, continue, break: replaced by `pass`) and
`return x` -> `return None`. Skipped: docstrings, logging calls, `__all__`, annotations,
decorators, f-strings, string operands, `if TYPE_CHECKING`, lines marked `# pragma: no mutate`.

How it runs. The repository is copied (rsync, no .venv/.git) to /tmp once per job; the
mutant is written to the module's file in that copy only, restored in a `finally`, at exit
and on SIGINT/SIGTERM, and every copy's file hash (and the worktree's) is checked at the end.
A per-job worker process imports the third-party libraries once and forks one child per
mutant, which runs pytest (-x -q -p no:cacheprovider) in the copy on the tests that executed
the mutated line in a traced baseline run, fastest first (per-test line coverage from
sys.settrace, cached under /tmp by the hash of sources and tests). A line no test executes is
reported "not covered" without running anything; a mutant on a line run at import (module
level, class bodies, defaults) runs every test that touched the module. Timeout: the selected
tests' baseline time x factor + 60 s, counted as killed. SQLite only (TEST_DATABASE_URL unset).
Not a CI gate: run it before resolving a money issue.
"""

from __future__ import annotations

import argparse
import ast
import atexit
import copy
import hashlib
import json
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TESTS = {
    "lending/finance/": [
        "tests/finance",
        "tests/services/test_servicing_record.py",
        "tests/services/test_replay_stateful.py",
        "tests/services/test_reduce_principal_servicing.py",
    ],
    "lending/services/": ["tests/services", "tests/web", "tests/perf_budgets"],
}
FALLBACK_TESTS = ["tests"]
ROUNDING = [
    "ROUND_HALF_UP",
    "ROUND_HALF_EVEN",
    "ROUND_DOWN",
    "ROUND_UP",
    "ROUND_CEILING",
    "ROUND_FLOOR",
    "ROUND_HALF_DOWN",
    "ROUND_05UP",
]
SWAPPED_NAMES = {
    "min": "max",
    "max": "min",
    "minimum": "maximum",
    "maximum": "minimum",
    "floor": "ceil",
    "ceil": "floor",
}
CMP_SWAPS = {
    ast.Lt: [ast.LtE, ast.GtE],
    ast.LtE: [ast.Lt, ast.Gt],
    ast.Gt: [ast.GtE, ast.LtE],
    ast.GtE: [ast.Gt, ast.Lt],
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
}
BIN_SWAPS = {
    ast.Add: [ast.Sub],
    ast.Sub: [ast.Add],
    ast.Mult: [ast.Div],
    ast.Div: [ast.Mult],
    ast.FloorDiv: [ast.Div, ast.Mult],
    ast.Mod: [ast.FloorDiv],
    ast.Pow: [ast.Mult],
    ast.LShift: [ast.RShift],
    ast.RShift: [ast.LShift],
    ast.BitAnd: [ast.BitOr],
    ast.BitOr: [ast.BitAnd],
    ast.BitXor: [ast.BitAnd],
}
LOGGERS = {"log", "logger", "logging", "LOG", "_log", "_logger"}
PRELOAD = [
    "numpy",
    "numpy_financial",
    "pytest",
    "hypothesis",
    "flask",
    "sqlalchemy",
    "sqlmodel",
    "marshmallow",
    "holidays",
    "factory",
    "alembic",
    "apscheduler",
    "babel",
    "flask_babel",
    "flask_login",
    "flask_wtf",
    "stdnum",
    "phonenumbers",
    "argon2",
    "yaml",
    "apispec",
    "email_validator",
    "flask_limiter",
    "click",
    "jinja2",
    "werkzeug",
    "psycopg",
]


# ----------------------------------------------------------------------------- mutants
@dataclass
class Mutant:
    line: int
    end_line: int
    start: int  # byte offsets in the source
    end: int
    original: str
    replacement: str
    operator: str
    status: str = ""
    killer: str = ""  # the first failing test
    seconds: float = 0.0
    tests: int = 0
    function: str = ""  # qualname of the module-level function or method whose body holds it
    way: str = ""  # "patched" (a warm worker swapped the function's code) or "imported"

    def label(self, path: str) -> str:
        return f"{path}:{self.line}: {_short(self.original)} -> {_short(self.replacement)}"


def _short(text: str, width: int = 70) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


class Mutator:
    """Walk a module's AST and list its mutants as byte-span replacements."""

    def __init__(self, source: bytes):
        self.source = source
        self.tree = ast.parse(source)
        self.offsets = [0]
        for line in source.splitlines(keepends=True):
            self.offsets.append(self.offsets[-1] + len(line))
        text = source.decode()
        self.skip_lines = {
            n for n, line in enumerate(text.splitlines(), 1) if "pragma: no mutate" in line
        }
        self.mutants: list[Mutant] = []

    def span(self, node) -> tuple[int, int]:
        return (
            self.offsets[node.lineno - 1] + node.col_offset,
            self.offsets[node.end_lineno - 1] + node.end_col_offset,
        )

    def add(self, node, replacement: str, operator: str, expr: bool = True) -> None:
        if node.lineno in self.skip_lines:
            return
        start, end = self.span(node)
        original = self.source[start:end].decode()
        if expr:
            replacement = f"({replacement})"
        self.mutants.append(
            Mutant(node.lineno, node.end_lineno, start, end, original, replacement, operator)
        )

    def run(self) -> list[Mutant]:
        self.body(self.tree.body, level="module")
        valid, seen = [], set()
        for m in self.mutants:
            new = self.apply(m)
            if new in seen or new == self.source:
                continue
            try:
                ast.parse(new)
            except SyntaxError:
                continue
            seen.add(new)
            valid.append(m)
        return sorted(valid, key=lambda m: (m.line, m.start, m.operator))

    def apply(self, m: Mutant) -> bytes:
        return _apply(self.source, m)

    # statements --------------------------------------------------------------
    def body(self, stmts, level: str) -> None:
        for i, stmt in enumerate(stmts):
            if i == 0 and _is_docstring(stmt):
                continue
            self.stmt(stmt, level)

    def stmt(self, node, level: str) -> None:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.Global, ast.Nonlocal, ast.Pass)):
            return
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self.arguments(node.args)
            self.body(node.body, "function")
            return
        if isinstance(node, ast.ClassDef):
            for base in node.bases + [k.value for k in node.keywords]:
                self.expr(base)
            self.body(node.body, "class")
            return
        if isinstance(node, ast.If) and _is_type_checking(node.test):
            return
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)) and _is_all(node):
            return
        if isinstance(node, ast.Expr) and _is_logging(node.value):
            return
        inside = level == "function"
        if inside and isinstance(
            node,
            (ast.Expr, ast.Assign, ast.AugAssign, ast.Raise, ast.Continue, ast.Break, ast.Assert),
        ):
            self.add(node, "pass", "delete statement", expr=False)
        if inside and isinstance(node, ast.AnnAssign) and node.value is not None:
            self.add(node, "pass", "delete statement", expr=False)
        if inside and isinstance(node, ast.If) and not node.orelse:
            self.add(node, "pass", "delete statement", expr=False)
        if (
            isinstance(node, ast.Return)
            and node.value is not None
            and not (isinstance(node.value, ast.Constant) and node.value.value is None)
        ):
            self.add(node, "return None", "return None", expr=False)
        if isinstance(node, ast.AugAssign):
            for op in BIN_SWAPS.get(type(node.op), []):
                new = copy.copy(node)
                new.op = op()
                self.add(node, ast.unparse(new), "arithmetic", expr=False)
        for name, value in ast.iter_fields(node):
            if name in ("annotation", "returns", "type_comment", "decorator_list"):
                continue
            if name in ("body", "orelse", "finalbody") and isinstance(value, list):
                self.body(value, level)
            elif name == "handlers":
                for handler in value:  # exception classes are not mutated
                    self.body(handler.body, level)
            elif isinstance(value, list):
                for item in value:
                    if isinstance(item, ast.expr):
                        self.expr(item)
                    elif isinstance(item, ast.withitem):
                        self.expr(item.context_expr)
                    elif isinstance(item, ast.match_case):
                        self.body(item.body, level)
            elif isinstance(value, ast.expr):
                if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and name == (
                    "target"
                ):
                    continue
                self.expr(value)

    def arguments(self, args: ast.arguments) -> None:
        for default in args.defaults + [d for d in args.kw_defaults if d is not None]:
            self.expr(default)

    # expressions -------------------------------------------------------------
    def expr(self, node) -> None:  # noqa: C901 - one branch per operator
        if node is None or isinstance(node, ast.JoinedStr):
            return
        if isinstance(node, ast.Lambda):
            self.expr(node.body)
            return
        if isinstance(node, ast.Compare):
            for i, op in enumerate(node.ops):
                for swap in CMP_SWAPS.get(type(op), []):
                    new = copy.copy(node)
                    new.ops = list(node.ops)
                    new.ops[i] = swap()
                    self.add(node, ast.unparse(new), "comparison")
        elif isinstance(node, ast.BinOp) and not _stringy(node):
            for swap in BIN_SWAPS.get(type(node.op), []):
                new = copy.copy(node)
                new.op = swap()
                self.add(node, ast.unparse(new), "arithmetic")
        elif isinstance(node, ast.UnaryOp):
            if isinstance(node.op, ast.USub):
                self.add(node, ast.unparse(node.operand), "unary minus removed")
            elif isinstance(node.op, ast.Not):
                self.add(node, ast.unparse(node.operand), "negation removed")
        elif isinstance(node, ast.BoolOp):
            new = copy.copy(node)
            new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            self.add(node, ast.unparse(new), "and/or")
        elif isinstance(node, ast.Constant):
            value = node.value
            if isinstance(value, bool):
                self.add(node, repr(not value), "True/False")
            elif isinstance(value, int | float) and not isinstance(value, complex):
                for delta in (1, -1):
                    self.add(node, repr(value + delta), "constant +/-1")
            return
        elif isinstance(node, ast.Name) and node.id in ROUNDING:
            self.rounding(node, node.id)
        elif isinstance(node, ast.Attribute) and node.attr in ROUNDING:
            self.rounding(node, node.attr)
        elif isinstance(node, ast.Call):
            self.call(node)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                self.expr(child)
            elif isinstance(child, ast.comprehension):
                self.expr(child.iter)
                for cond in child.ifs:
                    self.expr(cond)
            elif isinstance(child, ast.keyword):
                self.expr(child.value)

    def rounding(self, node, mode: str) -> None:
        targets = ROUNDING[1:5] if mode == "ROUND_HALF_UP" else ["ROUND_HALF_UP"]
        for other in targets:
            self.add(node, repr(other), "rounding mode")  # decimal's modes are these strings

    def call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name in SWAPPED_NAMES:
            new_func = copy.copy(func)
            if isinstance(func, ast.Name):
                new_func.id = SWAPPED_NAMES[name]
            else:
                new_func.attr = SWAPPED_NAMES[name]
            self.add(func, ast.unparse(new_func), "min/max", expr=False)
        if name == "Decimal" and node.args and isinstance(node.args[0], ast.Constant):
            value = node.args[0].value
            if isinstance(value, str):
                for other in _decimal_neighbours(value):
                    self.add(node.args[0], repr(other), "Decimal constant", expr=False)


def _decimal_neighbours(text: str) -> list[str]:
    from decimal import Decimal, InvalidOperation

    try:
        value = Decimal(text)
    except InvalidOperation:
        return []
    if not value.is_finite():
        return []
    ulp = Decimal(1).scaleb(value.as_tuple().exponent)
    return [str(value + ulp), str(value - ulp)]


def _is_docstring(stmt) -> bool:
    return (
        isinstance(stmt, ast.Expr)
        and isinstance(stmt.value, ast.Constant)
        and isinstance(stmt.value.value, str)
    )


def _is_type_checking(test) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _is_all(node) -> bool:
    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
    return any(isinstance(t, ast.Name) and t.id == "__all__" for t in targets)


def _is_logging(call) -> bool:
    if not isinstance(call, ast.Call) or not isinstance(call.func, ast.Attribute):
        return False
    owner = call.func.value
    return (isinstance(owner, ast.Name) and owner.id in LOGGERS) or (
        isinstance(owner, ast.Attribute) and owner.attr in LOGGERS
    )


def _stringy(node: ast.BinOp) -> bool:
    def is_str(side) -> bool:
        return isinstance(side, ast.JoinedStr) or (
            isinstance(side, ast.Constant) and isinstance(side.value, str | bytes)
        )

    return is_str(node.left) or is_str(node.right)


def list_mutants(source: bytes) -> list[Mutant]:
    """Return every mutant of a module's source."""
    mutants = Mutator(source).run()
    bodies = function_bodies(source)
    for m in mutants:
        m.function = next((q for q, lo, hi in bodies if lo <= m.start and m.end <= hi), "")
    return mutants


def function_bodies(source: bytes) -> list[tuple[str, int, int]]:
    """(qualname, first byte, end byte) of the body of every function defined at module level
    or in a class body (nested classes too). A mutant inside such a body changes only that
    function's code object, so a warm worker can swap the code in place (see _hot_patch);
    one in a default value, a decorator, a class body or at module level changes what import
    builds, and is run by importing the mutated module afresh."""
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    found = []

    def walk(stmts, prefix: str) -> None:
        for node in stmts:
            if isinstance(node, ast.ClassDef):
                walk(node.body, f"{prefix}{node.name}.")
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first, last = node.body[0], node.body[-1]
                found.append(
                    (
                        f"{prefix}{node.name}",
                        offsets[first.lineno - 1] + first.col_offset,
                        offsets[last.end_lineno - 1] + last.end_col_offset,
                    )
                )

    walk(ast.parse(source).body, "")
    return found


# ----------------------------------------------------------------------------- worker
def trace_plugin(root: str, package: str):
    """Return a pytest plugin recording which lines of `package` (a folder under root) each
    test runs, and how long it takes; lines run outside a test are filed under <import>."""
    import pytest

    class TracePlugin:
        def __init__(self):
            self.prefix = os.path.join(root, package)
            self.cut = len(root) + 1
            self.current = "<import>"
            self.lines: dict[str, dict[str, set[int]]] = {}
            self.durations: dict[str, float] = {}
            self.failed: list[str] = []

        def tracer(self, frame, event, arg):
            filename = frame.f_code.co_filename
            if not filename.startswith(self.prefix):
                return None
            files = self.lines.setdefault(self.current, {})
            hits = files.setdefault(filename[self.cut :], set())
            hits.add(frame.f_lineno)

            def local(frame, event, arg):
                if event == "line":
                    hits.add(frame.f_lineno)
                return local

            return local

        def start(self) -> None:
            sys.settrace(self.tracer)
            threading.settrace(self.tracer)

        @pytest.hookimpl(wrapper=True)
        def pytest_runtest_protocol(self, item, nextitem):
            self.current = item.nodeid
            started = time.perf_counter()
            try:
                return (yield)
            finally:
                self.durations[item.nodeid] = time.perf_counter() - started
                self.current = "<import>"

        def pytest_runtest_logreport(self, report):
            if report.failed:
                self.failed.append(report.nodeid)

        def pytest_sessionfinish(self, session):
            sys.settrace(None)
            threading.settrace(None)

        def dump(self, path: str) -> None:
            data = {
                "lines": {
                    t: {f: sorted(v) for f, v in files.items()} for t, files in self.lines.items()
                },
                "durations": self.durations,
                "failed": self.failed,
            }
            Path(path).write_text(json.dumps(data))

    return TracePlugin()


def worker(copy_dir: str, warm: list[str] | None = None) -> None:
    """Serve pytest runs in copy_dir: one JSON request per stdin line, one forked child each.

    A warm worker (warm = the test paths) has also imported the whole package and collected
    those tests once, so its children start at pytest's collection with every module in
    sys.modules, and a mutant inside a function is applied by swapping that function's code
    (_hot_patch): about 1 s a mutant instead of 4-5 s of importing (measured in
    docs/BENCHMARKS.md, with both ways giving the same verdicts)."""
    os.chdir(copy_dir)
    sys.path.insert(0, copy_dir)
    sys.dont_write_bytecode = True
    for name in PRELOAD:
        try:
            __import__(name)
        except Exception:  # noqa: BLE001, S112 - a library this project does not use
            continue
    import pytest

    if warm is not None:
        import importlib
        import pkgutil

        package = importlib.import_module("lending")
        for info in pkgutil.walk_packages(package.__path__, "lending."):
            try:
                importlib.import_module(info.name)
            except Exception:  # noqa: BLE001, S112 - an optional extra's module
                continue
        saved = os.dup(1), os.dup(2)
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        try:
            args = ["--collect-only", "-q", "-p", "no:cacheprovider", "-m", "not browser"]
            pytest.main(["-W", "ignore::pytest.PytestAssertRewriteWarning", *args, *warm])
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)

    out = sys.stdout
    sys.stdout = sys.stderr
    out.write("ready\n")  # the orchestrator writes no mutant before this line
    out.flush()
    for line in sys.stdin:
        request = json.loads(line)
        out.write(json.dumps(_serve(request)) + "\n")
        out.flush()


def _serve(request: dict) -> dict:
    log = request["log"]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # child
        code = 3
        try:
            os.setpgid(0, 0)
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            import pytest

            if request.get("patch"):
                try:
                    _hot_patch(**request["patch"])
                except Exception as why:  # noqa: BLE001 - any failure: import it instead
                    print(f"cannot patch: {why!r}")
                    code = CANNOT_PATCH
                    raise
            plugins = []
            if request.get("trace"):
                plugin = trace_plugin(os.getcwd(), request["trace_package"])
                plugins.append(plugin)
                plugin.start()  # before pytest loads conftest.py, which imports the package
            # Plugins the worker preloaded (hypothesis, faker) cannot be assert-rewritten.
            args = ["-W", "ignore::pytest.PytestAssertRewriteWarning", *request["args"]]
            code = int(pytest.main(args, plugins=plugins))
            if request.get("trace"):
                plugin.dump(request["trace"])
        except BaseException:  # noqa: BLE001 - the child must never return into the loop
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    deadline = started + request["timeout"]
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return {
                "rc": os.waitstatus_to_exitcode(status),
                "timeout": False,
                "seconds": time.perf_counter() - started,
            }
        if time.perf_counter() > deadline:
            for sig in (signal.SIGTERM, signal.SIGKILL):
                try:
                    os.killpg(pid, sig)
                except ProcessLookupError:
                    break
                time.sleep(0.5)
            os.waitpid(pid, 0)
            return {"rc": -9, "timeout": True, "seconds": time.perf_counter() - started}
        time.sleep(0.02)


CANNOT_PATCH = 99  # a warm child's exit code: run this mutant by importing it instead


class CannotPatch(Exception):
    pass


def _hot_patch(module: str, qualname: str, file: str) -> None:
    """Give the live function `qualname` of `module` the code compiled from the mutated file.

    Every reference to the function (imports by name, dicts of handlers, bound methods,
    decorators' __wrapped__) is the one function object, so from now on every call runs the
    mutant, as if the module had been imported mutated. Refused (the caller imports instead)
    when the function cannot be found by name or its closure differs."""
    import importlib

    live_module = importlib.import_module(module)
    compiled = compile(Path(file).read_bytes(), live_module.__file__, "exec", dont_inherit=True)
    new = _code_named(compiled, qualname)
    if new is None:
        raise CannotPatch(f"no code object {qualname}")
    obj = live_module
    parts = qualname.split(".")
    for part in parts[:-1]:
        obj = getattr(obj, part, None)
        if not isinstance(obj, type):
            raise CannotPatch(f"{part} is not a class")
    raw = obj.__dict__.get(parts[-1]) if isinstance(obj, type) else getattr(obj, parts[-1], None)
    candidates = [raw]
    for attr in ("__func__", "fget", "fset", "fdel", "func"):
        candidates.append(getattr(raw, attr, None))
    for candidate in candidates:
        seen = 0
        while candidate is not None and seen < 10:
            code = getattr(candidate, "__code__", None)
            if (
                code is not None
                and code.co_qualname == qualname
                and code.co_filename == (live_module.__file__)
            ):
                if code.co_freevars != new.co_freevars:
                    raise CannotPatch(f"{qualname}: closure {code.co_freevars}")
                candidate.__code__ = new
                return
            candidate, seen = getattr(candidate, "__wrapped__", None), seen + 1
    raise CannotPatch(f"no live function {qualname}")


def _code_named(code, qualname: str):
    for const in code.co_consts:
        if hasattr(const, "co_qualname"):
            if const.co_qualname == qualname:
                return const
            inner = _code_named(const, qualname)
            if inner is not None:
                return inner
    return None


# ----------------------------------------------------------------------------- orchestrator
@dataclass
class Job:
    index: int
    path: Path  # the copy of the repository
    target: Path  # the module's file in the copy
    original: bytes
    process: subprocess.Popen = field(repr=False, default=None)
    warm: subprocess.Popen | None = field(repr=False, default=None)
    dirty: bool = False

    def ask(self, request: dict, warm: bool = False) -> dict:
        process = self.warm if warm else self.process
        process.stdin.write(json.dumps(request) + "\n")
        process.stdin.flush()
        return json.loads(process.stdout.readline())

    def write(self, source: bytes) -> None:
        self.dirty = True
        self.target.write_bytes(source)

    def restore(self) -> None:
        self.target.write_bytes(self.original)
        self.dirty = False


JOBS: list[Job] = []
STOP = threading.Event()  # set on SIGINT/SIGTERM: no job writes another mutant


def _restore_all(*_args) -> None:
    for job in JOBS:
        if job.dirty or job.target.read_bytes() != job.original:
            job.restore()


def _on_signal(signum, frame):
    STOP.set()
    _restore_all()
    raise KeyboardInterrupt


def _env(stateful: str) -> dict:
    env = dict(os.environ)
    env.pop("TEST_DATABASE_URL", None)
    env.pop("REQUIRE_POSTGRES", None)
    env.update(
        LENDING_ENV="testing",
        PYTHONDONTWRITEBYTECODE="1",
        STATEFUL_EXAMPLES=stateful,
        OPENBLAS_NUM_THREADS="1",
        OMP_NUM_THREADS="1",
        PYTHONHASHSEED="0",
    )
    return env


def _make_copy(base: Path, index: int, module: str, stateful: str, warm: list[str] | None) -> Job:
    dest = base / f"job{index}"
    subprocess.run(
        [
            "rsync",
            "-a",
            "--delete",
            "--exclude",
            ".venv",
            "--exclude",
            ".git",
            "--exclude",
            "__pycache__",
            "--exclude",
            ".hypothesis",
            "--exclude",
            "instance",
            "--exclude",
            "*.egg-info",
            f"{ROOT}/",
            f"{dest}/",
        ],
        check=True,
    )
    target = dest / module
    job = Job(index, dest, target, target.read_bytes())
    job.process = subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "mutation.py"), "--worker", str(dest)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=dest,
        env=_env(stateful),
    )
    job.process.stdout.readline()  # "ready"
    if warm is not None:
        job.warm = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "scripts" / "mutation.py"),
                "--worker",
                str(dest),
                "--warm",
                json.dumps(warm),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=dest,
            env=_env(stateful),
        )
    return job


def _digest(paths) -> str:
    h = hashlib.sha256()
    for path in sorted(paths):
        h.update(str(path).encode())
        h.update(Path(path).read_bytes())
    return h.hexdigest()[:16]


def _test_files(tests: list[str]) -> list[Path]:
    files = []
    for t in tests:
        p = ROOT / t.split("::")[0]
        files += sorted(p.rglob("*.py")) if p.is_dir() else [p]
    return files + sorted((ROOT / "tests").glob("*.py"))


def baseline(job: Job, module: str, tests: list[str], extra: list[str]) -> dict:
    """Return per-test line coverage of the module's package and test durations (cached)."""
    package = str(Path(module).parent) + "/"
    sources = sorted((ROOT / package).rglob("*.py")) + _test_files(tests)
    key = _digest(sources) + hashlib.sha256(json.dumps([tests, extra]).encode()).hexdigest()[:8]
    cache = Path(tempfile.gettempdir()) / "qist-mutation-cache" / f"{key}.json"
    if cache.exists():
        print(f"baseline: cached {cache}")
        return json.loads(cache.read_text())
    cache.parent.mkdir(exist_ok=True)
    out = job.path / "trace.json"
    print(f"baseline: tracing {' '.join(tests)} ...", flush=True)
    args = [*tests, "-q", "-p", "no:cacheprovider", "-m", "not browser", *extra]
    reply = job.ask(
        {
            "args": args,
            "timeout": 7200,
            "log": str(job.path / "baseline.log"),
            "trace": str(out),
            "trace_package": package,
        }
    )
    if not out.exists():
        log = (job.path / "baseline.log").read_text()[-3000:]
        sys.exit(f"baseline failed (rc {reply['rc']}), its output ends:\n{log}")
    data = json.loads(out.read_text())
    if reply["rc"] != 0 or data["failed"]:
        sys.exit(
            f"baseline failed (rc {reply['rc']}): {data['failed'][:5]}; "
            f"see {job.path / 'baseline.log'}"
        )
    print(f"baseline: {len(data['durations'])} tests in {reply['seconds']:.0f} s (traced)")
    cache.write_text(json.dumps(data))
    return data


def selection(data: dict, module: str, lines: set[int], import_only: set[int]) -> list[str]:
    """Return the tests that ran one of the lines, fastest first (every test that touched the
    module for a line only run at import)."""
    chosen = []
    for test, files in data["lines"].items():
        if test == "<import>" or module not in files:
            continue
        if lines & import_only or lines & files[module]:
            chosen.append(test)
    return sorted(chosen, key=lambda t: data["durations"].get(t, 0.0))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("module", nargs="?", help="e.g. lending/finance/kernel.py")
    parser.add_argument("--tests", nargs="+", help="test paths (default: by module)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout-factor", type=float, default=3.0)
    parser.add_argument("--only", help="lines to mutate, e.g. 12,40-45")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--list", action="store_true", help="list the mutants and stop")
    parser.add_argument(
        "--ignore", action="append", default=[], help="a test path to leave out (repeatable)"
    )
    parser.add_argument("--stateful-examples", default="5", help="STATEFUL_EXAMPLES (default 5)")
    parser.add_argument(
        "--cold",
        action="store_true",
        help="import every mutant afresh (no warm worker swapping a function's code)",
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--warm", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args.worker, json.loads(args.warm) if args.warm else None)
        return 0
    if not args.module:
        parser.error("the module to mutate is required")
    module = str(Path(args.module).resolve().relative_to(ROOT))
    source = (ROOT / module).read_bytes()
    before = hashlib.sha256(source).hexdigest()
    mutants = list_mutants(source)
    if args.only:
        wanted = set()
        for part in args.only.split(","):
            lo, _, hi = part.partition("-")
            wanted.update(range(int(lo), int(hi or lo) + 1))
        mutants = [m for m in mutants if m.line in wanted]
    if args.list:
        for m in mutants:
            print(f"{m.label(module)}  [{m.operator}]")
        print(f"{len(mutants)} mutants")
        return 0
    tests = args.tests or next(
        (t for prefix, t in DEFAULT_TESTS.items() if module.startswith(prefix)), FALLBACK_TESTS
    )
    started = time.perf_counter()
    base = Path(tempfile.mkdtemp(prefix="qist-mutation-"))
    atexit.register(shutil.rmtree, base, True)
    atexit.register(_restore_all)
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        for j in range(max(1, args.jobs)):
            warm = None if args.cold or not module.startswith("lending/") else tests
            JOBS.append(_make_copy(base, j, module, args.stateful_examples, warm))
        results = run(args, module, mutants, tests)
    finally:
        _restore_all()
        for job in JOBS:
            for process in (job.process, job.warm):
                if process and process.poll() is None:
                    process.stdin.close()
                    process.wait(timeout=30)
    bad = [j.index for j in JOBS if hashlib.sha256(j.target.read_bytes()).hexdigest() != before]
    if bad or hashlib.sha256((ROOT / module).read_bytes()).hexdigest() != before:
        print(f"ERROR: a mutant was left in place (jobs {bad})", file=sys.stderr)
        return 2
    report(args, module, results, time.perf_counter() - started)
    return 0


def run(args, module: str, mutants: list[Mutant], tests: list[str]) -> list[Mutant]:
    data = baseline(JOBS[0], module, tests, [f"--ignore={path}" for path in args.ignore])
    for files in data["lines"].values():
        for name in files:
            files[name] = set(files[name])
    import_lines = data["lines"].get("<import>", {}).get(module, set())
    # Lines run at import whose code no test runs again (module constants, class bodies).
    in_tests = set()
    for test, files in data["lines"].items():
        if test != "<import>":
            in_tests |= files.get(module, set())
    import_only = import_lines - in_tests
    dotted = module.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    pending: queue.Queue = queue.Queue()
    for m in mutants:
        pending.put(m)
    lock = threading.Lock()
    total = len(mutants)
    counter = [0]

    def loop(job: Job) -> None:
        if job.warm is not None and job.warm.stdout.readline().strip() != "ready":
            print(f"job {job.index}: the warm worker did not start; importing every mutant")
            job.warm = None
        if job.warm is not None:
            # Self-check: the unmutated code, swapped in the same way, must pass the tests of
            # the first function's mutants, or the warm worker's verdicts cannot be trusted.
            first = next((m for m in mutants if m.function), None)
            chosen = first and selection(
                data, module, set(range(first.line, first.end_line + 1)), import_only
            )
            if chosen:
                patch = {"module": dotted, "qualname": first.function, "file": str(job.target)}
                check = job.ask(
                    {
                        "args": [*chosen, "-x", "-q", "-p", "no:cacheprovider"],
                        "timeout": 600,
                        "log": str(job.path / "warm-check.log"),
                        "patch": patch,
                    },
                    warm=True,
                )
                if check["rc"] != 0:
                    print(
                        f"job {job.index}: the warm worker fails unmutated code (rc "
                        f"{check['rc']}, {job.path / 'warm-check.log'}); importing every mutant"
                    )
                    job.warm = None
        while True:
            try:
                m = pending.get_nowait()
            except queue.Empty:
                return
            if STOP.is_set():
                return
            span = set(range(m.line, m.end_line + 1))
            chosen = selection(data, module, span, import_only)
            if not chosen:
                m.status = "not covered"
            else:
                budget = sum(data["durations"].get(t, 0.0) for t in chosen)
                request = {
                    "args": [*chosen, "-x", "-q", "-p", "no:cacheprovider"],
                    # + 60 s: forking, collecting and importing take ~10-25 s on a loaded
                    # machine, and a slow start must not pass for a killed mutant.
                    "timeout": budget * args.timeout_factor + 60,
                    "log": str(job.path / "mutant.log"),
                }
                job.write(_apply(job.original, m))
                try:
                    reply = None
                    # A function run while the module is imported (one that builds a module
                    # constant) has done its work before a patch could reach it: import it.
                    if m.function and job.warm is not None and not span & import_lines:
                        patch = {"module": dotted, "qualname": m.function, "file": str(job.target)}
                        reply = job.ask({**request, "patch": patch}, warm=True)
                        m.way = "patched"
                    if reply is None or reply["rc"] == CANNOT_PATCH:
                        reply = job.ask(request)
                        m.way = "imported"
                finally:
                    job.restore()
                m.tests, m.seconds = len(chosen), reply["seconds"]
                m.killer = _killer(job.path / "mutant.log")
                if reply["timeout"]:
                    m.status = "timeout"
                elif reply["rc"] == 0:
                    m.status = "survived"
                elif reply["rc"] in (1, 2, 3, 4):
                    # 1 failed, 2 collection error, 3 internal error, 4 conftest import
                    # failed: the baseline passed with the same arguments, so the mutant did it.
                    m.status = "killed"
                else:
                    m.status = f"error rc={reply['rc']}"
            with lock:
                counter[0] += 1
                print(
                    f"[{counter[0]}/{total}] {m.status:11} {m.label(module)}  "
                    f"({m.tests} tests, {m.seconds:.1f} s)",
                    flush=True,
                )

    threads = [threading.Thread(target=loop, args=(job,), daemon=True) for job in JOBS]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        for t in threads:
            t.join(0.2)
    return mutants


def _killer(log: Path) -> str:
    for line in log.read_text(errors="replace").splitlines():
        if line.startswith(("FAILED ", "ERROR ")):
            return line.split(" ", 1)[1].split(" - ")[0]
    return ""


def _apply(source: bytes, m: Mutant) -> bytes:
    return source[: m.start] + m.replacement.encode() + source[m.end :]


def report(args, module: str, mutants: list[Mutant], seconds: float) -> None:
    count = {
        s: sum(1 for m in mutants if m.status == s)
        for s in ("killed", "timeout", "survived", "not covered")
    }
    errors = [m for m in mutants if m.status.startswith("error")]
    caught = count["killed"] + count["timeout"]
    score = 100.0 * caught / len(mutants) if mutants else 100.0
    print(
        f"\n{module}: {len(mutants)} mutants, {count['killed']} killed, "
        f"{count['timeout']} timed out, {count['survived']} survived, "
        f"{count['not covered']} not covered, {len(errors)} errors; "
        f"score {score:.1f}% in {seconds:.0f} s"
    )
    for m in mutants:
        if m.status not in ("killed", "timeout"):
            print(f"  {m.status}: {m.label(module)}")
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "module": module,
                    "mutants": len(mutants),
                    **count,
                    "errors": len(errors),
                    "score": round(score, 1),
                    "seconds": round(seconds),
                    "load": os.getloadavg(),
                    "results": [asdict(m) for m in mutants],
                },
                indent=1,
            )
        )


if __name__ == "__main__":
    sys.exit(main())
