"""deploy/ as `make lint` checks it (scripts/check_deploy.py), and that the check can fail:
each kind of mistake in a copy of deploy/ is caught and named."""

import importlib.util
import shutil
from pathlib import Path
from types import ModuleType

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]


def _checker() -> ModuleType:
    spec = importlib.util.spec_from_file_location("check_deploy", ROOT / "scripts/check_deploy.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check = _checker()


@pytest.fixture
def deploy(tmp_path: Path) -> Path:
    copy = tmp_path / "deploy"
    shutil.copytree(ROOT / "deploy", copy)
    return copy


def test_the_reference_deployment_passes() -> None:
    deploy = ROOT / "deploy"
    resources, k8s = check.kubernetes_problems(deploy)
    assert resources >= 8 and k8s == []
    kinds = {
        doc["kind"]
        for path in (deploy / "kubernetes").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
    }
    assert {"Deployment", "Service", "Job", "PodDisruptionBudget", "Secret"} <= kinds
    assert check.settings_problems(deploy)[1] == []
    systemd = check.systemd_problems(deploy)
    if shutil.which("systemd-analyze"):  # the script says when it is not there
        assert systemd is not None and systemd[0] >= 4 and systemd[1] == []


def test_the_api_and_workers_are_probed_and_take_secrets_as_files() -> None:
    docs = {
        doc["metadata"]["name"]: doc
        for path in (ROOT / "deploy/kubernetes").glob("*.yaml")
        for doc in yaml.safe_load_all(path.read_text())
        if doc["kind"] == "Deployment"
    }
    paths = {"brain-api": "/api/brain/health/", "brain-worker": "/health/"}
    for name, prefix in paths.items():
        [container] = docs[name]["spec"]["template"]["spec"]["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == prefix + "live"
        assert container["readinessProbe"]["httpGet"]["path"] == prefix + "ready"
        # Above the 3 s bound of each readiness check.
        assert container["readinessProbe"]["timeoutSeconds"] > 3
        assert "env" not in container  # settings from the ConfigMap, secrets from files
        assert container["resources"]["requests"]["memory"]


def test_a_mistyped_kubernetes_field_fails(deploy: Path) -> None:
    api = deploy / "kubernetes/api.yaml"
    api.write_text(api.read_text().replace("livenessProbe:", "livenesProbe:"))
    _, problems = check.kubernetes_problems(deploy)
    assert problems and all("livenesProbe" in p for p in problems), problems


def test_an_unknown_systemd_key_fails(deploy: Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is missing: apt-get install systemd")
    unit = deploy / "systemd/brain-api.service"
    unit.write_text(unit.read_text().replace("Restart=on-failure", "Restrat=on-failure"))
    _, problems = check.systemd_problems(deploy)
    assert any("Restrat" in p for p in problems), problems


def test_a_name_that_is_no_setting_and_a_secret_in_clear_fail(deploy: Path) -> None:
    env = deploy / "systemd/brain.env"
    env.write_text(env.read_text() + "BRAIN_TEMPORAL_ADRESS=x\nBRAIN_JWT_SECRET=hunter2\n")
    _, problems = check.settings_problems(deploy)
    assert any("BRAIN_TEMPORAL_ADRESS is not a setting" in p for p in problems), problems
    assert any("BRAIN_JWT_SECRET is a secret" in p for p in problems), problems
