"""``models/`` is a leaf (STYLE 18, issue 23): it imports nothing of Brain's but ``models``,
not even under ``TYPE_CHECKING`` or inside a function, so every other package may import it
and no cycle can run through it. Read from the source, so a lazy import counts too."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Brain's own top-level packages (pyproject.toml, [tool.setuptools.packages.find]).
OURS = {
    "activities", "api", "cli", "core", "hitl", "models", "processes", "services", "store",
    "temporal", "workers", "workflows",
}  # fmt: skip


def _imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_models_imports_only_models_of_ours() -> None:
    outside = {
        f"{path.relative_to(ROOT)}: {name}"
        for path in sorted((ROOT / "models").glob("**/*.py"))
        for name in _imported(path)
        if name.split(".")[0] in OURS - {"models"}
    }
    assert outside == set()
