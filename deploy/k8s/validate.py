#!/usr/bin/env python3
"""Checks the rendered GTS manifests (one multi-document YAML file) beyond their schemas.

kubernetes-validate checks each resource against the Kubernetes schemas; this script
checks what the deployment promises operators (docs/configuration.md, operators): every
pod meets the "restricted" Pod Security Standard's settings and has requests and limits,
images carry a version tag, every Deployment has a PodDisruptionBudget, blobs go to S3,
only shootout mounts a volume that pods share, the gateway is published over TLS, ingress
is denied by default, and workers autoscale on the queue (KEDA's fields, which no bundled
schema covers). Exits 1 with one line per problem.
"""

import sys

import yaml


def main(path):
    with open(path, encoding="utf-8") as handle:
        docs = [doc for doc in yaml.safe_load_all(handle) if doc]
    problems = []
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], []).append(doc)

    deployments = by_kind.get("Deployment", [])
    if not deployments:
        problems.append("no Deployment rendered")
    for deployment in deployments:
        name = deployment["metadata"]["name"]
        pod = deployment["spec"]["template"]["spec"]
        context = pod.get("securityContext", {})
        if context.get("seccompProfile", {}).get("type") != "RuntimeDefault":
            problems.append(f"{name}: pod seccompProfile is not RuntimeDefault")
        if context.get("runAsNonRoot") is not True:
            problems.append(f"{name}: pod may run as root")
        for container in pod["containers"]:
            where = f"{name}/{container['name']}"
            resources = container.get("resources", {})
            for section in ("requests", "limits"):
                for resource in ("cpu", "memory"):
                    if resource not in resources.get(section, {}):
                        problems.append(f"{where}: no {section}.{resource}")
            security = container.get("securityContext", {})
            if security.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation is not false")
            if "ALL" not in security.get("capabilities", {}).get("drop", []):
                problems.append(f"{where}: capabilities are not all dropped")
            image = container.get("image", "")
            tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
            if tag in ("", "latest", "dev"):
                problems.append(f"{where}: image {image!r} has no version tag")
            ports = {port.get("name") for port in container.get("ports", [])}
            if "metrics" not in ports:
                problems.append(f"{where}: no metrics port")
        claims = [
            volume["persistentVolumeClaim"]["claimName"]
            for volume in pod.get("volumes", [])
            if "persistentVolumeClaim" in volume
        ]
        if claims and name != "shootout":
            problems.append(f"{name}: mounts shared volumes {claims} (blobs belong in S3)")

    selected = [
        pdb["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/name")
        for pdb in by_kind.get("PodDisruptionBudget", [])
    ]
    for deployment in deployments:
        app = deployment["spec"]["selector"]["matchLabels"].get("app.kubernetes.io/name")
        if app not in selected:
            problems.append(f"{deployment['metadata']['name']}: no PodDisruptionBudget")

    config = next(
        (cm for cm in by_kind.get("ConfigMap", []) if cm["metadata"]["name"].startswith("gts-config")),
        None,
    )
    if config is None or config.get("data", {}).get("GTS_STORAGE_BACKEND") != "s3":
        problems.append("gts-config: GTS_STORAGE_BACKEND is not s3")
    if config is None or "GTS_METRICS_LISTEN" not in config.get("data", {}):
        problems.append("gts-config: no GTS_METRICS_LISTEN")

    ingresses = by_kind.get("Ingress", [])
    if not any(ingress["spec"].get("tls") for ingress in ingresses):
        problems.append("no Ingress with TLS")

    denies = [
        policy
        for policy in by_kind.get("NetworkPolicy", [])
        if policy["spec"].get("podSelector") == {} and not policy["spec"].get("ingress")
    ]
    if not denies:
        problems.append("no default-deny ingress NetworkPolicy")

    scaled = by_kind.get("ScaledObject", [])
    if not scaled:
        problems.append("no ScaledObject: workers do not autoscale")
    for item in scaled:
        spec = item.get("spec", {})
        target = spec.get("scaleTargetRef", {}).get("name")
        if target not in {d["metadata"]["name"] for d in deployments}:
            problems.append(f"ScaledObject {item['metadata']['name']}: no Deployment {target!r}")
        if not 1 <= spec.get("minReplicaCount", 0) <= spec.get("maxReplicaCount", 0):
            problems.append(f"ScaledObject {item['metadata']['name']}: bad replica bounds")
        for trigger in spec.get("triggers", []):
            metadata = trigger.get("metadata", {})
            if trigger.get("type") != "postgresql" or "query" not in metadata:
                problems.append("ScaledObject: expected a postgresql trigger with a query")
            if int(metadata.get("targetQueryValue", "0")) < 1:
                problems.append("ScaledObject: targetQueryValue must be >= 1")
            auth = trigger.get("authenticationRef", {}).get("name")
            if auth not in {t["metadata"]["name"] for t in by_kind.get("TriggerAuthentication", [])}:
                problems.append(f"ScaledObject: no TriggerAuthentication {auth!r}")

    for problem in problems:
        print(f"manifest check: {problem}")
    print(f"manifest checks: {len(docs)} resources, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
