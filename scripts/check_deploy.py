"""`make lint`'s check of the reference deployment (deploy/), offline.

- Kubernetes manifests (deploy/kubernetes/*.yaml): every resource validated, strictly (an
  unknown field is an error), against the schemas that ``kubernetes-validate`` ships, for the
  oldest and the newest Kubernetes versions in ``VERSIONS``.
- systemd units (deploy/systemd/*.service, *.target): ``systemd-analyze verify``, with the
  units' ``/opt/brain/.venv`` pointed at this checkout's so their commands exist; any warning
  fails. Where systemd-analyze is missing this check is skipped, and said so.
- Settings: every ``BRAIN_*`` name in deploy/ is a setting of core/settings.py (or a secret
  setting's ``_FILE``), and no secret is given as a plain variable, only as a file.

Usage: python scripts/check_deploy.py [DEPLOY_DIR]   (default: deploy/)
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.secret_files import secret_fields  # noqa: E402
from core.settings import Settings  # noqa: E402

# The oldest Kubernetes the manifests are meant for (policy/v1 PodDisruptionBudget, Job TTLs
# and seccompProfile are all older), and the newest whose schemas the validator ships.
VERSIONS = ("1.28.0", kubernetes_validate.latest_version())
UNIT_PREFIX = "/opt/brain/.venv"
_VARIABLE = re.compile(r"\bBRAIN_[A-Z0-9_]+\b")


def kubernetes_problems(deploy: Path) -> tuple[int, list[str]]:
    """(resources checked, problems)."""
    checked, problems = 0, []
    for path in sorted((deploy / "kubernetes").glob("*.yaml")):
        for document in yaml.safe_load_all(path.read_text()):
            if not document:
                continue
            name = f"{path.relative_to(deploy.parent)}: {document.get('kind')}/"
            name += str(document.get("metadata", {}).get("name"))
            checked += 1
            for version in VERSIONS:
                try:
                    kubernetes_validate.validate(document, version, strict=True)
                except kubernetes_validate.ValidationError as err:
                    where = ".".join(str(p) for p in err.path)
                    problems.append(f"{name} (Kubernetes {version}): {where}: {err.message}")
                except Exception as err:  # an unknown kind or apiVersion, a broken schema
                    said = getattr(err, "message", str(err))
                    problems.append(f"{name} (Kubernetes {version}): {said}")
    return checked, problems


def systemd_problems(deploy: Path) -> tuple[int, list[str]] | None:
    """(units checked, problems), or None when systemd-analyze is not installed."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        return None
    units = sorted(p for p in (deploy / "systemd").iterdir() if p.suffix in (".service", ".target"))
    venv = str(ROOT / ".venv")
    with tempfile.TemporaryDirectory() as scratch:
        names = []
        for unit in units:
            (Path(scratch) / unit.name).write_text(unit.read_text().replace(UNIT_PREFIX, venv))
            # A template is verified as its first instance.
            names.append(unit.name.replace("@.", "@1."))
        done = subprocess.run(
            [analyze, "verify", "--man=no", *(f"./{name}" for name in names)],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=120,
        )
        said = (done.stdout + done.stderr).replace(scratch, "deploy/systemd")
    problems = [line for line in said.splitlines() if line.strip()]
    if done.returncode != 0 and not problems:
        problems = [f"systemd-analyze verify exited {done.returncode}"]
    return len(units), problems


def settings_problems(deploy: Path) -> tuple[int, list[str]]:
    """(names checked, problems): names that are not settings, secrets given in clear."""
    fields = set(Settings.model_fields)
    secrets = set(secret_fields(Settings))
    seen: set[str] = set()
    problems = []
    for path in sorted(p for p in deploy.rglob("*") if p.is_file()):
        for variable in sorted(set(_VARIABLE.findall(path.read_text()))):
            seen.add(variable)
            name = variable.removeprefix("BRAIN_").lower()
            where = path.relative_to(deploy.parent)
            if name.endswith("_file") and name.removesuffix("_file") in secrets:
                continue
            if name in secrets:
                problems.append(f"{where}: {variable} is a secret: give it as {variable}_FILE")
            elif name not in fields:
                problems.append(f"{where}: {variable} is not a setting (core/settings.py)")
    return len(seen), problems


def main() -> int:
    deploy = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "deploy"
    resources, k8s = kubernetes_problems(deploy)
    names, settings = settings_problems(deploy)
    systemd = systemd_problems(deploy)
    problems = k8s + settings + (systemd[1] if systemd else [])
    for problem in problems:
        print(f"check_deploy: {problem}", file=sys.stderr)
    print(
        f"check_deploy: {resources} Kubernetes resources against {' and '.join(VERSIONS)}, "
        f"{names} BRAIN_* names against the settings"
    )
    if systemd is None:
        print(
            "check_deploy: systemd-analyze is not installed: the systemd units were NOT "
            "verified (apt-get install systemd)"
        )
    else:
        print(f"check_deploy: {systemd[0]} systemd units verified (systemd-analyze verify)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
