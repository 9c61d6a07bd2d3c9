#!/usr/bin/env python3
"""Checks deploy/ without a cluster or a Docker engine: every YAML parses, and the manifests hang together.

  python3 deploy/validate.py        (needs PyYAML: apt-get install python3-yaml, or pip install pyyaml)

Kubernetes: each document has apiVersion, kind and metadata.name; kustomization.yaml lists files that exist;
a Deployment's or StatefulSet's selector matches its pod labels; every ConfigMap and Secret a pod reads is defined
(config.yaml, secrets.example.yaml); env names are valid; Redis never evicts, persists with an AOF, and its maxmemory
is at most 75 % of its memory limit (docs/capacity.md); probes name ports the container declares; each Service
selects some workload. Compose: every build names a Dockerfile that exists, every depends_on a service.
This is no substitute for `kubectl apply --dry-run=server` or `docker compose config` where those are available.
"""
import os
import re
import sys

try:
    import yaml
except ImportError:
    sys.exit("validate.py needs PyYAML (apt-get install python3-yaml)")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
errors = []


def fail(where, message):
    errors.append(f"{where}: {message}")


def load_all(path):
    with open(path, encoding="utf-8") as f:
        return [d for d in yaml.safe_load_all(f) if d is not None]


def check_kubernetes():
    kdir = os.path.join(HERE, "kubernetes")
    docs = {}
    for name in sorted(os.listdir(kdir)):
        if name.endswith(".yaml"):
            docs[name] = load_all(os.path.join(kdir, name))
    kustomization = docs.pop("kustomization.yaml")[0]
    for resource in kustomization.get("resources", []):
        if not os.path.exists(os.path.join(kdir, resource)):
            fail("kustomization.yaml", f"resource {resource} does not exist")

    defined = {("ConfigMap", d["metadata"]["name"]) for f in docs.values() for d in f if d.get("kind") == "ConfigMap"}
    defined |= {("Secret", d["metadata"]["name"]) for f in docs.values() for d in f if d.get("kind") == "Secret"}
    workloads = []
    for file, file_docs in docs.items():
        for doc in file_docs:
            where = f"{file} {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
            for key in ("apiVersion", "kind", "metadata"):
                if key not in doc:
                    fail(where, f"no {key}")
            if "name" not in doc.get("metadata", {}):
                fail(where, "no metadata.name")
            if doc.get("kind") in ("Deployment", "StatefulSet"):
                workloads.append(doc)
                check_workload(where, doc, defined)
            env_map = doc.get("kind") == "ConfigMap" and doc["metadata"]["name"] not in mounted_config_maps(docs)
            for key, value in (doc.get("data") or {}).items() if doc.get("kind") == "ConfigMap" else []:
                if env_map and not ENV_NAME.match(key):
                    fail(where, f"{key} is not a valid environment variable name")
                if not isinstance(value, str):
                    fail(where, f"{key}: ConfigMap values must be strings (quote it)")
    for file, file_docs in docs.items():
        for doc in file_docs:
            if doc.get("kind") == "Service":
                selector = doc["spec"].get("selector", {})
                if not any(selector.items() <= w["spec"]["template"]["metadata"]["labels"].items() for w in workloads):
                    fail(f"{file} Service/{doc['metadata']['name']}", f"selector {selector} matches no workload")
            if doc.get("kind") == "PodDisruptionBudget":
                selector = doc["spec"]["selector"]["matchLabels"]
                if not any(selector.items() <= w["spec"]["template"]["metadata"]["labels"].items() for w in workloads):
                    fail(f"{file} PodDisruptionBudget/{doc['metadata']['name']}", "selector matches no workload")
    check_redis(docs.get("redis.yaml", []))
    return sum(len(d) for d in docs.values()) + 1


def mounted_config_maps(docs):
    """ConfigMaps mounted as files (their keys are file names, not environment variables)."""
    return {v["configMap"]["name"] for f in docs.values() for d in f if d.get("kind") in ("Deployment", "StatefulSet")
            for v in d["spec"]["template"]["spec"].get("volumes", []) if "configMap" in v}


UNITS = {"": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2, "g": 1000**3, "gb": 1024**3}
KUBE_UNITS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "ki": 1024, "mi": 1024**2, "gi": 1024**3}


def size(text, units):
    match = re.fullmatch(r"(\d+)([a-z]*)", text.strip().lower())
    return int(match.group(1)) * units[match.group(2)] if match and match.group(2) in units else None


def check_redis(docs):
    """The grain store: never evicts, persists, and maxmemory leaves headroom under the memory limit (docs/capacity.md)."""
    config = next((d for d in docs if d.get("kind") == "ConfigMap"), None)
    redis = next((d for d in docs if d.get("kind") == "StatefulSet"), None)
    if not config or not redis:
        return fail("redis.yaml", "expects a ConfigMap with redis.conf and a StatefulSet")
    settings = {}
    for line in config["data"].get("redis.conf", "").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            key, _, value = line.strip().partition(" ")
            settings[key] = value.strip()
    for key, want in (("maxmemory-policy", "noeviction"), ("appendonly", "yes")):
        if settings.get(key) != want:
            fail("redis.yaml redis.conf", f"{key} must be {want}, is {settings.get(key)}")
    if settings.get("appendfsync") not in ("everysec", "always"):
        fail("redis.yaml redis.conf", "appendfsync must be everysec or always (docs/capacity.md)")
    container = redis["spec"]["template"]["spec"]["containers"][0]
    limit = size(str(container.get("resources", {}).get("limits", {}).get("memory", "")), KUBE_UNITS)
    maxmemory = size(settings.get("maxmemory", ""), UNITS)
    if not limit or not maxmemory:
        fail("redis.yaml", "needs maxmemory in redis.conf and a memory limit on the container")
    elif maxmemory > 0.75 * limit:
        fail("redis.yaml", f"maxmemory {maxmemory} is above 75 % of the memory limit {limit}: no room for the AOF rewrite's fork")


def check_workload(where, doc, defined):
    spec = doc["spec"]
    labels = spec["template"]["metadata"]["labels"]
    if not spec["selector"]["matchLabels"].items() <= labels.items():
        fail(where, "selector does not match the pod labels")
    pod = spec["template"]["spec"]
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    for volume in volumes.values():
        if "secret" in volume and ("Secret", volume["secret"]["secretName"]) not in defined:
            fail(where, f"volume {volume['name']}: secret {volume['secret']['secretName']} is not defined")
        if "configMap" in volume and ("ConfigMap", volume["configMap"]["name"]) not in defined:
            fail(where, f"volume {volume['name']}: ConfigMap {volume['configMap']['name']} is not defined")
    for container in pod["containers"]:
        ports = {p.get("name") for p in container.get("ports", [])} | {p["containerPort"] for p in container.get("ports", [])}
        for env in container.get("env", []):
            if not ENV_NAME.match(env["name"]):
                fail(where, f"env {env['name']} is not a valid name")
            if "value" in env and not isinstance(env["value"], str):
                fail(where, f"env {env['name']}: value must be a string (quote it)")
        for source in container.get("envFrom", []):
            for kind, key in (("ConfigMap", "configMapRef"), ("Secret", "secretRef")):
                if key in source and (kind, source[key]["name"]) not in defined:
                    fail(where, f"envFrom {kind} {source[key]['name']} is not defined")
        for probe_name in ("startupProbe", "readinessProbe", "livenessProbe"):
            probe = container.get(probe_name)
            if not probe:
                continue
            for handler in ("httpGet", "tcpSocket"):
                if handler in probe and probe[handler]["port"] not in ports:
                    fail(where, f"{probe_name} uses port {probe[handler]['port']}, which the container does not declare")
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in volumes and not spec.get("volumeClaimTemplates"):
                fail(where, f"volumeMount {mount['name']} has no volume")
    if doc["kind"] == "Deployment" and pod.get("terminationGracePeriodSeconds", 30) < 30:
        fail(where, "terminationGracePeriodSeconds below 30")


def check_compose():
    compose = load_all(os.path.join(HERE, "compose.yaml"))[0]
    services = compose["services"]
    for name, service in services.items():
        build = service.get("build")
        if build:
            context = os.path.normpath(os.path.join(HERE, build.get("context", ".")))
            dockerfile = os.path.join(context, build.get("dockerfile", "Dockerfile"))
            if not os.path.exists(dockerfile):
                fail(f"compose.yaml {name}", f"{dockerfile} does not exist")
        for dependency in service.get("depends_on", {}):
            if dependency not in services:
                fail(f"compose.yaml {name}", f"depends on unknown service {dependency}")
        if "image" not in service and "build" not in service:
            fail(f"compose.yaml {name}", "neither image nor build")
    return len(services)


def check_dockerfiles():
    ddir = os.path.join(HERE, "docker")
    count = 0
    for name in sorted(os.listdir(ddir)):
        if not name.endswith(".Dockerfile"):
            continue
        count += 1
        text = open(os.path.join(ddir, name), encoding="utf-8").read()
        for project in re.findall(r"dotnet publish (\S+\.csproj)", text):
            if not os.path.exists(os.path.join(ROOT, project)):
                fail(f"docker/{name}", f"{project} does not exist")
        for dll in re.findall(r'"(GroupPay\.[\w.]+\.dll)"', text):
            project = re.search(r"dotnet publish (\S+\.csproj)", text).group(1)
            assembly = re.search(r"<AssemblyName>(.*?)</AssemblyName>", open(os.path.join(ROOT, project), encoding="utf-8").read())
            if not assembly or assembly.group(1) + ".dll" != dll:
                fail(f"docker/{name}", f"{dll} is not what {project} builds")
    return count


kubernetes = check_kubernetes()
services = check_compose()
dockerfiles = check_dockerfiles()
for error in errors:
    print("deploy: " + error)
print(f"deploy: {kubernetes} Kubernetes documents, {services} compose services, {dockerfiles} Dockerfiles checked; "
      f"{len(errors)} problem(s)")
sys.exit(1 if errors else 0)
