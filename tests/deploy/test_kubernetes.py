"""The Kubernetes manifests, offline: every overlay renders with kustomize and every object validates
against the Kubernetes schemas (kubernetes-validate, strict) or its operator's published CRD (KEDA,
Strimzi, vendored in deploy/kubernetes/schemas). Then what no schema knows: KEDA's own rules for a
Kafka trigger, triggers that watch the groups and topics the pods really use, static membership from
the pod name, probes on `smartcity health`, the lake on a ReadWriteMany volume, and every container's
settings and arguments accepted by smartcity itself."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import click
import jsonschema
import kubernetes_validate
import pytest
import yaml

from smartcity.cli.main import cli
from smartcity.ingest.alerts.settings import AlertSettings
from smartcity.ingest.kafka.settings import KafkaSettings
from smartcity.ingest.sink.settings import IngestSettings
from tests.conftest import unavailable

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "kubernetes"
OVERLAYS = ("small", "large")
KUBERNETES_VERSIONS = ("1.33.0", "1.37.0")
CRDS = {
    "ScaledObject": "keda-2.20.2/keda.sh_scaledobjects.yaml",
    "TriggerAuthentication": "keda-2.20.2/keda.sh_triggerauthentications.yaml",
    "Kafka": "strimzi-1.2.0/040-Crd-kafka.yaml",
    "KafkaNodePool": "strimzi-1.2.0/045-Crd-kafkanodepool.yaml",
}
MEMBERS = {"smartcity-ingest": "ingest", "smartcity-alerts": "alerts"}  # Deployment -> settings section
FLUSH_ON_SIGTERM_S = {"smartcity-ingest": 60, "smartcity-alerts": 30}
"""The grace each group member needs to land or commit what it holds (README, "Graceful shutdown")."""


def kustomize() -> str:
    found = os.environ.get("SMARTCITY_KUSTOMIZE") or shutil.which("kustomize") or \
        (str(ROOT / ".tools/bin/kustomize") if (ROOT / ".tools/bin/kustomize").exists() else None)
    if found is None:
        unavailable("kustomize not found: `make tools` builds it into .tools/bin (needs Go)")
    return found


@cache
def render(overlay: str) -> tuple[dict[str, Any], ...]:
    done = subprocess.run([kustomize(), "build", str(DEPLOY / "overlays" / overlay)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


def of_kind(docs: tuple[dict[str, Any], ...], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


@cache
def crd_schema(kind: str, api_version: str) -> dict[str, Any]:
    crd = yaml.safe_load((DEPLOY / "schemas" / CRDS[kind]).read_text())
    assert crd["spec"]["names"]["kind"] == kind
    version = api_version.split("/")[1]
    served = {v["name"]: v for v in crd["spec"]["versions"] if v.get("served")}
    assert version in served, f"{kind} {api_version} is not served by the vendored CRD ({sorted(served)})"
    return strict(served[version]["schema"]["openAPIV3Schema"])


def strict(schema: Any) -> Any:
    """The schema with unknown fields refused, as the API server's strict field validation (kubectl's
    default) refuses them, except where the CRD keeps unknown fields on purpose."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) for k, v in schema.items()}
    if "properties" in schema and "additionalProperties" not in schema and \
            not schema.get("x-kubernetes-preserve-unknown-fields"):
        out["additionalProperties"] = False
    return out


def settings_of(docs: tuple[dict[str, Any], ...]) -> dict[str, Any]:
    return tomllib.loads(of_kind(docs, "ConfigMap")["smartcity-config"]["data"]["smartcity.toml"])


def smartcity_containers(docs: tuple[dict[str, Any], ...]) -> list[tuple[str, dict[str, Any]]]:
    return [(name, c) for name, d in of_kind(docs, "Deployment").items()
            for c in d["spec"]["template"]["spec"]["containers"] if c["image"].startswith("smartcity")]


def container_env(docs: tuple[dict[str, Any], ...], container: dict[str, Any], pod: str) -> dict[str, str]:
    """The environment Kubernetes gives the container (fieldRef, ConfigMap and Secret references resolved)."""
    maps = of_kind(docs, "ConfigMap")
    secrets = {name: {**s.get("data", {}), **s.get("stringData", {})} for name, s in of_kind(docs, "Secret").items()}
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        env.update(secrets[source["secretRef"]["name"]] if "secretRef" in source
                   else maps[source["configMapRef"]["name"]]["data"])
    for var in container.get("env", []):
        ref = var.get("valueFrom", {})
        if "value" in var:
            env[var["name"]] = var["value"]
        elif "fieldRef" in ref:
            assert ref["fieldRef"]["fieldPath"] == "metadata.name"
            env[var["name"]] = pod
        elif "configMapKeyRef" in ref:
            env[var["name"]] = maps[ref["configMapKeyRef"]["name"]]["data"][ref["configMapKeyRef"]["key"]]
        else:
            env[var["name"]] = secrets[ref["secretKeyRef"]["name"]][ref["secretKeyRef"]["key"]]
    return env


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_object_validates_against_its_published_schema(overlay: str) -> None:
    docs = render(overlay)
    kinds = {d["kind"] for d in docs}
    assert {"Deployment", "ScaledObject", "PersistentVolumeClaim", "PodDisruptionBudget", "ConfigMap", "Secret",
            "Service"} <= kinds
    for doc in docs:
        where = f"{overlay}: {doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in CRDS:
            try:
                jsonschema.validate(doc, crd_schema(doc["kind"], doc["apiVersion"]))
            except jsonschema.ValidationError as exc:
                raise AssertionError(f"{where}: {exc.message} at {list(exc.absolute_path)}") from None
            continue
        for version in KUBERNETES_VERSIONS:
            try:
                kubernetes_validate.validate(doc, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                raise AssertionError(f"{where} (Kubernetes {version}): {exc.message} at {list(exc.path)}") from None


def test_a_broken_manifest_is_caught() -> None:
    """The validation can fail: a wrong type and a misspelt field in a ScaledObject are refused."""
    scaled = of_kind(render("small"), "ScaledObject")["smartcity-ingest"]
    schema = crd_schema("ScaledObject", scaled["apiVersion"])
    jsonschema.validate(scaled, schema)
    for spec in ({**scaled["spec"], "maxReplicaCount": "eight"}, {**scaled["spec"], "pollingIntervall": 15}):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate({**scaled, "spec": spec}, schema)
    deployment = of_kind(render("small"), "Deployment")["smartcity-ingest"]
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate({**deployment, "spec": {**deployment["spec"], "replica": 2}},
                                     KUBERNETES_VERSIONS[-1], strict=True)


def keda_kafka_problems(meta: dict[str, str]) -> list[str]:
    """KEDA's own checks of a ``kafka`` trigger (``kafkaMetadata.Validate`` in KEDA 2.20's
    pkg/scalers/kafka_scaler.go), which no schema carries: the metadata is a map of strings."""
    problems = []
    flag = {k: meta.get(k, default).lower() for k, default in (
        ("allowIdleConsumers", "false"), ("limitToPartitionsWithLag", "false"), ("fullMetadata", "true"),
        ("ensureEvenDistributionOfPartitions", "false"), ("scaleToZeroOnInvalidOffset", "false"),
        ("excludePersistentLag", "false"))}
    for key, value in flag.items():
        if value not in ("true", "false"):
            problems.append(f"{key} must be true or false, not {value!r}")
    if int(meta.get("lagThreshold", "10")) <= 0:
        problems.append("lagThreshold must be positive")
    if int(meta.get("activationLagThreshold", "0")) < 0:
        problems.append("activationLagThreshold must not be negative")
    if meta.get("offsetResetPolicy", "latest") not in ("latest", "earliest"):
        problems.append("offsetResetPolicy is latest or earliest")
    if flag["allowIdleConsumers"] == "true" and flag["limitToPartitionsWithLag"] == "true":
        problems.append("allowIdleConsumers and limitToPartitionsWithLag cannot be set simultaneously")
    if not meta.get("topic") and flag["limitToPartitionsWithLag"] == "true":
        problems.append("topic must be specified when using limitToPartitionsWithLag")
    if not meta.get("topic") and flag["fullMetadata"] == "false":
        problems.append("topic must be specified when fullMetadata is false")
    if not (meta.get("bootstrapServers") or meta.get("bootstrapServersFromEnv")):
        problems.append("bootstrapServers (or bootstrapServersFromEnv) is required")
    if not (meta.get("consumerGroup") or meta.get("consumerGroupFromEnv")):
        problems.append("consumerGroup (or consumerGroupFromEnv) is required")
    return problems


def test_keda_s_rules_refuse_what_keda_refuses() -> None:
    assert keda_kafka_problems({"bootstrapServers": "k:9092", "consumerGroup": "g", "limitToPartitionsWithLag": "true"}
                               ) == ["topic must be specified when using limitToPartitionsWithLag"]
    assert keda_kafka_problems({"bootstrapServers": "k:9092", "consumerGroup": "g", "topic": "t",
                                "limitToPartitionsWithLag": "true", "allowIdleConsumers": "true"})
    assert keda_kafka_problems({"consumerGroup": "g", "lagThreshold": "0"})


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_scaled_objects_watch_the_groups_and_topics_the_members_use(overlay: str) -> None:
    docs = render(overlay)
    settings = settings_of(docs)
    kafka = KafkaSettings(**{k: v for k, v in settings.get("kafka", {}).items() if k != "properties"})
    deployments = of_kind(docs, "Deployment")
    scaled = of_kind(docs, "ScaledObject")
    assert set(scaled) == set(MEMBERS)
    for name, so in scaled.items():
        spec, section = so["spec"], MEMBERS[name]
        assert spec["scaleTargetRef"]["name"] == name and name in deployments
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"] <= kafka.partitions, name
        behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
        assert behavior["scaleDown"]["stabilizationWindowSeconds"] >= 60
        container = deployments[name]["spec"]["template"]["spec"]["containers"][0]
        env = container_env(docs, container, f"{name}-0")
        member = (IngestSettings if section == "ingest" else AlertSettings)(**settings.get(section, {}))
        group = member.group
        inputs = member.topics if isinstance(member, IngestSettings) else member.streams
        watched = set()
        for trigger in spec["triggers"]:
            meta = trigger["metadata"]
            assert trigger["type"] == "kafka"
            assert keda_kafka_problems(meta) == [], (name, meta)
            assert meta["allowIdleConsumers"] == "false" and meta["limitToPartitionsWithLag"] == "true"
            assert meta["consumerGroup"] == group
            assert env[meta["bootstrapServersFromEnv"]]  # KEDA reads the address from the member's container
            assert int(meta["activationLagThreshold"]) < int(meta["lagThreshold"])
            watched.add(meta["topic"])
        assert watched == {kafka.topic(kind) for kind in inputs}, name
        auth = {t["authenticationRef"]["name"] for t in spec["triggers"]}
        assert auth <= set(of_kind(docs, "TriggerAuthentication"))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_members_have_static_ids_probes_grace_and_a_shared_lake(overlay: str) -> None:
    docs = render(overlay)
    settings = settings_of(docs)
    deployments = of_kind(docs, "Deployment")
    claims = of_kind(docs, "PersistentVolumeClaim")
    budgets = {b["spec"]["selector"]["matchLabels"]["app.kubernetes.io/name"]
               for b in of_kind(docs, "PodDisruptionBudget").values()}
    for name, section in MEMBERS.items():
        pod = deployments[name]["spec"]["template"]["spec"]
        container = pod["containers"][0]
        env = {v["name"]: v for v in container["env"]}
        assert env[f"SMARTCITY_{section.upper()}_INSTANCE_ID"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"
        for probe in ("livenessProbe", "readinessProbe"):
            assert container[probe]["exec"]["command"][:2] == ["smartcity", "health"], (name, probe)
        assert pod["terminationGracePeriodSeconds"] >= FLUSH_ON_SIGTERM_S[name]
        assert container["resources"]["requests"] and container["resources"]["limits"]["memory"]
        assert name in budgets
    lake_path = settings["lake"]["path"]
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        volumes = {v["name"]: v for v in pod.get("volumes", [])}
        for container in pod["containers"]:
            for mount in container.get("volumeMounts", []):
                claim = volumes[mount["name"]].get("persistentVolumeClaim", {}).get("claimName")
                if mount["mountPath"] == lake_path:
                    assert claims[claim]["spec"]["accessModes"] == ["ReadWriteMany"], name
    assert any(m["mountPath"] == lake_path for _, c in smartcity_containers(docs) for m in c.get("volumeMounts", []))


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_container_s_settings_and_arguments_are_accepted_by_smartcity(overlay: str, tmp_path: Path) -> None:
    docs = render(overlay)
    config = tmp_path / "smartcity.toml"
    config.write_text(of_kind(docs, "ConfigMap")["smartcity-config"]["data"]["smartcity.toml"])
    containers = smartcity_containers(docs)
    assert {name for name, _ in containers} >= {"smartcity-ingest", "smartcity-alerts", "smartcity-live",
                                                 "smartcity-flows"}
    for name, container in containers:
        env = container_env(docs, container, f"{name}-7d9f8-abcde")
        env["SMARTCITY_CONFIG"] = str(config)  # the ConfigMap, mounted here instead of /etc/smartcity
        shown = subprocess.run([sys.executable, "-m", "smartcity.cli.main", "config", "show"], capture_output=True,
                               text=True, timeout=60, env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), **env})
        assert shown.returncode == 0, f"{overlay} {name}: {shown.stderr}"
        assert f'bootstrap_servers = "{env["SMARTCITY_KAFKA_BOOTSTRAP_SERVERS"]}"' in shown.stdout
        args = container.get("args", [])
        command = cli.get_command(click.Context(cli), args[0])
        assert command is not None, f"{name}: no command {args[0]!r}"
        command.make_context(args[0], list(args[1:]))  # a bad flag raises a UsageError here


def test_the_large_site_runs_kafka_under_strimzi_with_what_smartcity_asks() -> None:
    docs = render("large")
    kafka = next(iter(of_kind(docs, "Kafka").values()))
    pools = of_kind(docs, "KafkaNodePool").values()
    brokers = sum(p["spec"]["replicas"] for p in pools if "broker" in p["spec"]["roles"])
    assert all(p["metadata"]["labels"]["strimzi.io/cluster"] == kafka["metadata"]["name"] for p in pools)
    settings = settings_of(docs)
    assert settings["kafka"]["replication_factor"] <= brokers
    bootstrap = of_kind(docs, "ConfigMap")["smartcity-config"]["data"]["kafka_bootstrap_servers"]
    listener = next(x for x in kafka["spec"]["kafka"]["listeners"] if not x["tls"])
    assert bootstrap == f"{kafka['metadata']['name']}-kafka-bootstrap:{listener['port']}"
    assert not [d for d in docs if d["kind"] == "StatefulSet"]  # no home-made broker
