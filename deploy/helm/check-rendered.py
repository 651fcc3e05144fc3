"""Contracts of the rendered Helm chart that schemas cannot check (run by deploy/check.sh).

usage: check-rendered.py <chart dir> <dir of rendered <name>.yaml files>

Every component workload: /health startup, readiness and liveness probes, CPU and memory requests and a
memory limit, a read-only root filesystem, a PodDisruptionBudget and a Service selecting it. No Secret
is rendered and every secret reference names a secret from the values. The custom resources (Strimzi,
Altinity, KEDA, Prometheus Operator) carry the sizes of the values file they were rendered from, and the
components point at the services those resources create.
"""

import pathlib
import sys

import yaml

chart, rendered = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
problems: list[str] = []


def merge(base: dict, over: dict) -> dict:
    result = dict(base)
    for key, value in over.items():
        result[key] = merge(result[key], value) if isinstance(value, dict) and isinstance(result.get(key), dict) else value
    return result


def values_for(name: str) -> dict:
    values = yaml.safe_load((chart / "values.yaml").read_text())
    size = {"keda": "medium", "shared-models": "large"}.get(name, name)
    if (chart / f"values-{size}.yaml").exists():
        values = merge(values, yaml.safe_load((chart / f"values-{size}.yaml").read_text()) or {})
    if name == "keda":
        values["keda"]["enabled"] = True
    if name == "shared-models":  # check.sh renders it with three detectors on one ReadWriteMany model claim
        values["components"]["detectors"].update(replicas=3, sharedModels={"enabled": True, "storageClassName": "nfs"})
    if name == "external":  # check.sh renders it with Kafka, ClickHouse and the registry outside the release
        for service in ("kafka", "clickhouse", "registry"):
            values[service]["deploy"] = False
        values["clickhouse"]["cluster"] = ""
    return values


def check(name: str, condition: bool, what: str) -> None:
    if not condition:
        problems.append(f"{name}: {what}")


for path in sorted(rendered.glob("*.yaml")):
    name = path.stem
    values = values_for(name)
    docs = [d for d in yaml.safe_load_all(path.read_text()) if d]
    by_kind: dict[str, list[dict]] = {}
    for d in docs:
        by_kind.setdefault(d["kind"], []).append(d)
    check(name, "Secret" not in by_kind, "renders a Secret (secrets are referenced, never created)")
    secret_names = {s["name"] for s in values["secrets"].values()}
    config = next(c for c in by_kind["ConfigMap"] if c["metadata"]["name"].endswith("-config"))["data"]
    partitions = int(config["KAFKA_PARTITIONS"])

    workloads = [w for k in ("Deployment", "StatefulSet") for w in by_kind.get(k, [])]
    components = [w for w in workloads if w["metadata"]["labels"].get("app.kubernetes.io/name") == "sentio"]
    enabled = {c for c, spec in values["components"].items() if spec.get("enabled")}
    found = {w["metadata"]["labels"]["app.kubernetes.io/component"] for w in components}
    check(name, found == enabled, f"components rendered {sorted(found)} != enabled {sorted(enabled)}")

    for w in components:
        component = w["metadata"]["labels"]["app.kubernetes.io/component"]
        pod = w["spec"]["template"]["spec"]
        labels = w["spec"]["template"]["metadata"]["labels"]
        for c in pod["containers"]:
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                check(name, c.get(probe, {}).get("httpGet", {}).get("path") == "/health", f"{component}: {probe} on /health")
            res = c.get("resources", {})
            check(name, {"cpu", "memory"} <= set(res.get("requests", {})), f"{component}: cpu and memory requests")
            check(name, "memory" in res.get("limits", {}), f"{component}: a memory limit")
            check(name, c["securityContext"].get("readOnlyRootFilesystem") is True, f"{component}: read-only root")
            check(name, c["args"] == ["run", values["components"][component]["targets"]], f"{component}: run args")
            for env in c.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    check(name, ref["name"] in secret_names, f"{component}: secret {ref['name']} not from values.secrets")
                    check(name, "value" not in env, f"{component}: {env['name']} has a literal value")
            env = {e["name"]: e.get("value") for e in c.get("env", [])}
            if values["components"][component].get("clickhouse"):
                ch = values["clickhouse"]
                if ch["deploy"]:
                    check(name, env.get("CLICKHOUSE_URL") == f"http://clickhouse-{ch['installation']}.sentio.svc:8123",
                          f"{component}: CLICKHOUSE_URL is the installation's service")
                check(name, env.get("CLICKHOUSE_CLUSTER") == (ch["cluster"] or None),
                      f"{component}: CLICKHOUSE_CLUSTER {env.get('CLICKHOUSE_CLUSTER')} != clickhouse.cluster")
        matches = lambda selector: all(labels.get(k) == v for k, v in selector.items())
        check(name, any(matches(p["spec"]["selector"]["matchLabels"]) for p in by_kind.get("PodDisruptionBudget", [])),
              f"{component}: no PodDisruptionBudget")
        check(name, any(matches(s["spec"]["selector"]) for s in by_kind["Service"]), f"{component}: no Service")
        if values["components"][component].get("singleton"):
            check(name, w["spec"].get("replicas") == 1, f"{component}: a singleton runs one replica")
            if w["kind"] == "Deployment":
                check(name, w["spec"]["strategy"]["type"] == "Recreate", f"{component}: singleton rollout is Recreate")

    detectors = values["components"]["detectors"]
    if detectors["enabled"]:
        workload = next(w for w in workloads if w["metadata"]["name"] == "sentio-detectors")
        claims = {c["metadata"]["name"]: c for c in by_kind.get("PersistentVolumeClaim", [])}
        if detectors.get("sharedModels", {}).get("enabled"):
            check(name, workload["kind"] == "Deployment" and workload["spec"]["replicas"] == detectors["replicas"],
                  "detectors: the replicas are one Deployment")
            claim = claims.get("sentio-detectors-models", {}).get("spec", {})
            check(name, claim.get("accessModes") == ["ReadWriteMany"], "detectors: one ReadWriteMany model claim")
        else:
            check(name, workload["kind"] == "StatefulSet" and workload["spec"]["replicas"] == 1,
                  "detectors: one StatefulSet replica with its own model volume")

    ingest = values["components"]["ingest"]["autoscaling"]
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind.get("HorizontalPodAutoscaler", [])}
    scaled = {s["spec"]["scaleTargetRef"]["name"]: s for s in by_kind.get("ScaledObject", [])}
    if values["keda"]["enabled"]:
        check(name, "sentio-ingest" in scaled and "sentio-ingest" not in hpas, "KEDA replaces the ingest HPA")
        trigger = scaled["sentio-ingest"]["spec"]["triggers"][0]
        check(name, trigger["type"] == "kafka" and trigger["metadata"]["consumerGroup"] == ingest["consumerGroup"],
              "KEDA trigger on the ingest group's lag")
    else:
        metric = hpas["sentio-ingest"]["spec"]["metrics"][0]["external"]["metric"]
        check(name, metric["name"] == "kafka_consumergroup_lag", "ingest HPA on consumer lag")
        check(name, metric["selector"]["matchLabels"]["consumergroup"] == config["INGEST_GROUP_ID"],
              "ingest HPA on the group ingest uses")
        check(name, hpas["sentio-ingest"]["spec"]["maxReplicas"] <= partitions, "ingest maxReplicas <= partitions")

    k = values["kafka"]
    if k["deploy"]:
        pools = {p["metadata"]["name"]: p for p in by_kind["KafkaNodePool"]}
        brokers, controllers = pools["brokers"]["spec"], pools["controllers"]["spec"]
        check(name, brokers["replicas"] == k["brokers"]["replicas"] >= k["replicationFactor"], "brokers >= RF")
        check(name, controllers["replicas"] % 2 == 1, "an odd number of KRaft controllers")
        check(name, brokers["roles"] == ["broker"] and controllers["roles"] == ["controller"], "node pool roles")
        kafka = by_kind["Kafka"][0]
        cfg = kafka["spec"]["kafka"]["config"]
        check(name, cfg["min.insync.replicas"] < cfg["default.replication.factor"] == k["replicationFactor"],
              "min.insync.replicas < RF (one broker may be down)")
        check(name, config["KAFKA_BROKERS"] == f"{kafka['metadata']['name']}-kafka-bootstrap.sentio.svc:9092",
              "KAFKA_BROKERS is the Strimzi bootstrap service")
        check(name, config["KAFKA_REPLICATION_FACTOR"] == str(k["replicationFactor"]), "topics created with the RF")
    ch = values["clickhouse"]
    if ch["deploy"]:
        chi = by_kind["ClickHouseInstallation"][0]["spec"]
        layout = chi["configuration"]["clusters"][0]
        check(name, layout["name"] == ch["cluster"], "CHI cluster name = CLICKHOUSE_CLUSTER")
        check(name, layout["layout"] == {"shardsCount": ch["shards"], "replicasCount": ch["replicas"]}, "CHI layout")
        profile = chi["configuration"]["profiles"]
        check(name, profile["sentio/insert_quorum"] == ch["replicas"], "insert quorum = replicas of a shard")
        check(name, profile["sentio/distributed_foreground_insert"] == 1, "Distributed inserts in the foreground")
        keeper = by_kind["ClickHouseKeeperInstallation"][0]["spec"]["configuration"]["clusters"][0]["layout"]
        check(name, keeper["replicasCount"] % 2 == 1, "an odd number of Keeper replicas")
        check(name, chi["configuration"]["zookeeper"]["nodes"][0]["host"]
              == f"keeper-{by_kind['ClickHouseKeeperInstallation'][0]['metadata']['name']}", "CHI uses the Keeper service")
    if values["monitoring"]["serviceMonitor"]["enabled"]:
        selector = by_kind["ServiceMonitor"][0]["spec"]["selector"]["matchLabels"]
        sentio_services = [s for s in by_kind["Service"] if s["metadata"]["labels"].get("app.kubernetes.io/name") == "sentio"]
        check(name, all(all(s["metadata"]["labels"].get(k) == v for k, v in selector.items()) for s in sentio_services),
              "the ServiceMonitor selects every component Service")
    check(name, len(by_kind.get("NetworkPolicy", [])) >= 4, "NetworkPolicies rendered")
    print(f"{name}: {len(docs)} resources, {len(components)} components, contracts hold" if not [
        p for p in problems if p.startswith(f"{name}:")] else f"{name}: contract problems")

for p in problems:
    print(f"  {p}", file=sys.stderr)
sys.exit(1 if problems else 0)
