"""lending.scoring stays pure: no web framework, no ORM, no database, no models."""

import ast
from pathlib import Path

import pytest

import lending.scoring
from lending.models.enums import ApplicationStatus
from lending.models.enums import EmploymentType as ModelEmploymentType
from lending.scoring import DecisionStatus, EmploymentType

PACKAGE = Path(lending.scoring.__file__).parent
FORBIDDEN = (
    "flask",
    "sqlalchemy",
    "sqlmodel",
    "marshmallow",
    "lending.models",
    "lending.db",
    "lending.services",
    "lending.web",
    "lending.schemas",
)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(PACKAGE.glob("*.py")), ids=lambda p: p.name)
def test_module_imports_nothing_impure(path):
    bad = {n for n in _imports(path) if n.startswith(FORBIDDEN)}
    assert not bad
    assert len(path.read_text(encoding="utf-8").splitlines()) <= 300


def test_employment_types_match_the_models():
    assert [e.value for e in EmploymentType] == [e.value for e in ModelEmploymentType]


def test_decision_statuses_are_application_statuses():
    assert {s.value for s in DecisionStatus} <= {s.value for s in ApplicationStatus}
