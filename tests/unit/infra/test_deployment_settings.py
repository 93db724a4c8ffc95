"""Every ``CHORUS_*`` variable a deployment file sets is a setting Chorus reads.

The compose services are public images that cannot be pulled on the test machines and no
cluster runs here, so a misspelt variable (``CHORUS_MAX_UPLOADS_BYTES``) would be ignored
silently by pydantic-settings and only show as a default in production. Read every place that
sets one (compose.yaml with its env file, the Kubernetes ConfigMap, Secret and container
``env``, the Dockerfile's ``ENV``), and check each name is a field of
:class:`service.settings.Settings` and each value is one the field accepts.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[3]
INFRA = ROOT / "infra"
PREFIX = "CHORUS_"


def _env_file(path: Path) -> dict[str, str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines
                if line.strip() and not line.lstrip().startswith("#"))


def _mapping(environment: Any) -> dict[str, str]:
    """Compose's ``environment`` as a mapping or as a list of ``NAME=value``."""
    if isinstance(environment, dict):
        return {str(k): "" if v is None else str(v) for k, v in environment.items()}
    return dict(str(item).split("=", 1) for item in environment or [])


def compose_environments() -> dict[str, dict[str, str]]:
    """Each compose service's variables: its env files (the example standing in for the
    ``chorus.env`` a deployment copies from it), then its ``environment``."""
    compose = yaml.safe_load((INFRA / "compose.yaml").read_text(encoding="utf-8"))
    found: dict[str, dict[str, str]] = {}
    for name, service in compose["services"].items():
        env: dict[str, str] = {}
        files = service.get("env_file") or []
        for entry in [files] if isinstance(files, str) else files:
            file = INFRA / (entry if isinstance(entry, str) else entry["path"])
            if not file.exists():
                file = file.with_name(file.name + ".example")
            env.update(_env_file(file))
        env.update(_mapping(service.get("environment")))
        found[f"compose {name}"] = env
    return found


def kubernetes_environments() -> dict[str, dict[str, str]]:
    """The ConfigMap and Secret (every pod takes both) and each container's own ``env``."""
    shared: dict[str, str] = {}
    found: dict[str, dict[str, str]] = {}
    for path in sorted((INFRA / "k8s").glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not doc:
                continue
            if doc["kind"] in ("ConfigMap", "Secret"):
                shared.update({k: str(v) for k, v in (doc.get("data") or {}).items()})
                shared.update({k: str(v) for k, v in (doc.get("stringData") or {}).items()})
            pod = (doc.get("spec") or {}).get("template", {}).get("spec")
            for container in (pod or {}).get("containers", []):
                own = {e["name"]: str(e.get("value", "")) for e in container.get("env", [])}
                found[f"k8s {path.name} {container['name']}"] = own
    return {name: {**shared, **own} for name, own in found.items()} | {"k8s config": shared}


def dockerfile_environment() -> dict[str, str]:
    """The ``ENV NAME=value`` pairs of the Dockerfile (continuation lines joined)."""
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            env.update(re.findall(r"(\w+)=(\S+)", line))
    return env


def unknown_settings(env: dict[str, str]) -> set[str]:
    """The ``CHORUS_*`` names in ``env`` that are no field of the settings."""
    fields = {PREFIX + name.upper() for name in Settings.model_fields}
    return {name for name in env if name.startswith(PREFIX)} - fields


def settings_from(env: dict[str, str]) -> Settings:
    """The settings a process with exactly these variables would get (no ``.env`` file)."""
    values = {name[len(PREFIX):].lower(): value for name, value in env.items()
              if name.startswith(PREFIX)}
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def all_environments() -> dict[str, dict[str, str]]:
    return {**compose_environments(), **kubernetes_environments(),
            "Dockerfile": dockerfile_environment()}


@pytest.mark.parametrize("where", sorted(all_environments()))
def test_every_variable_is_a_setting_with_a_valid_value(where: str) -> None:
    env = all_environments()[where]
    assert unknown_settings(env) == set(), f"{where}: not settings Chorus knows"
    settings_from(env)  # raises on a value the field refuses


def test_the_files_were_read() -> None:
    """Guards the readers above: an empty result would make the test pass on nothing."""
    envs = all_environments()
    assert envs["compose web"]["CHORUS_BROKER"] == "redis"
    assert envs["compose worker"]["CHORUS_METRICS_PORT"] == "9200"
    assert envs["k8s worker-deployment.yaml worker"]["CHORUS_SECRET_KEY"]
    assert envs["Dockerfile"]["CHORUS_ENVIRONMENT"] == "production"
    assert "POSTGRES_PASSWORD" in envs["compose postgres"]  # not ours: not checked


def test_a_misspelt_name_and_a_bad_value_are_caught() -> None:
    env = {**dockerfile_environment(), "CHORUS_MAX_UPLOADS_BYTES": "1024"}
    assert unknown_settings(env) == {"CHORUS_MAX_UPLOADS_BYTES"}
    with pytest.raises(ValidationError, match="metrics_port"):
        settings_from({"CHORUS_METRICS_PORT": "ninety-two hundred"})
    with pytest.raises(ValidationError, match="log_format"):
        settings_from({"CHORUS_LOG_FORMAT": "xml"})
