"""Repository hygiene: clean notebooks, and requirements.txt in agreement with environment.yml."""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def test_six_lecture_slots_are_ordered():
    names = [path.name for path in NOTEBOOKS]
    assert names, "notebooks/ holds no lecture"
    assert all(re.match(r"0[1-6]_[a-z0-9_]+\.ipynb$", name) for name in names), names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_stored_clean(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    assert "widgets" not in notebook.metadata, "widget state is stored in the metadata"
    assert notebook.metadata.kernelspec.name == "python3"
    for index, cell in enumerate(notebook.cells):
        assert cell.get("id"), f"cell {index} has no id"
        if cell.cell_type == "code":
            assert cell.outputs == [], f"cell {index} has stored outputs"
            assert cell.execution_count is None, f"cell {index} has an execution count"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_stays_offline_and_seeded(path):
    source = "\n".join(cell.source for cell in nbformat.read(path, as_version=4).cells)
    for pattern in ("sys.path", "urllib", "requests", "fetch_openml", "np.random.seed", "download"):
        assert pattern not in source, f"{path.name} uses {pattern!r}"


def pins(lines):
    """Return {package: version} for the name==version lines among ``lines``."""
    found = {}
    for line in lines:
        match = re.fullmatch(r"\s*(?:-\s+)?([A-Za-z0-9_.\-\[\]]+)==([^\s#]+)\s*(?:#.*)?", line)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return found


def test_environment_yml_matches_requirements():
    requirements = pins((ROOT / "requirements.txt").read_text().splitlines())
    text = (ROOT / "environment.yml").read_text()
    pip_section = text.split("- pip:", 1)[1].splitlines()

    assert requirements, "requirements.txt pins nothing"
    assert pins(pip_section) == requirements
    assert re.search(r"^\s*-\s*python=3\.11\s*$", text, re.MULTILINE)


def test_requirements_agree_with_constraints():
    requirements = pins((ROOT / "requirements.txt").read_text().splitlines())
    constraints = pins((ROOT / "constraints.txt").read_text().splitlines())
    normalise = lambda name: re.sub(r"[-_.]+", "-", name)
    constraints = {normalise(name): version for name, version in constraints.items()}

    for name, version in requirements.items():
        assert constraints.get(normalise(name)) == version, f"{name}: requirements.txt {version}, constraints.txt {constraints.get(normalise(name))}"
