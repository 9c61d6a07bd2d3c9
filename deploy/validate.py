#!/usr/bin/env python3
"""Checks deploy/ without a cluster or a Docker engine: every YAML parses, and the manifests hang together.

  python3 deploy/validate.py        (needs PyYAML: apt-get install python3-yaml, or pip install pyyaml)

Kubernetes: each document has apiVersion, kind and metadata.name; kustomization.yaml lists files that exist;
a Deployment's or StatefulSet's selector matches its pod labels; every ConfigMap and Secret a pod reads is defined
(config.yaml, secrets.example.yaml); env names are valid; Redis never evicts, persists with an AOF, and its maxmemory
is at most 75 % of its memory limit (docs/capacity.md); probes name ports the container declares, and their HTTP paths
are health endpoints the image's project or a project it references maps (MapHealthChecks); each Service selects some workload.
Orleans on Kubernetes (Orleans__KubernetesHosting=true, Microsoft.Orleans.Hosting.Kubernetes): the pod labels
orleans/serviceId and orleans/clusterId equal the Orleans__ServiceId/Orleans__ClusterId the pod reads (ConfigMap or env;
ORLEANS_SERVICE_ID/ORLEANS_CLUSTER_ID, if set, likewise) and are valid label values; POD_NAME and POD_NAMESPACE come from
the downward API; the pod runs as a ServiceAccount that a RoleBinding gives a Role granting get, list, watch and patch on
pods (and delete with Orleans__Kubernetes__DeleteDefunctSiloPods=true); every workload reading a ClusterId reads the same.
Stopping: each .NET pod's terminationGracePeriodSeconds exceeds its preStop pause plus its graceful stop budget
(Orleans__ShutdownTimeout, else the host's default of 30 s). Scaling: a HorizontalPodAutoscaler targets an existing
Deployment that sets no replicas of its own, every container there requests the CPU it scales on, and minReplicas is
2 or more; every Deployment has a PodDisruptionBudget that keeps a pod and still lets one go (the single-replica Redis
StatefulSet has none on purpose: deploy/README.md). Schemas: with Node.js and `npm ci --prefix deploy/schema`,
deploy/schema/check.mjs checks every document against the Kubernetes API's JSON schemas (types, required fields); with
kubectl, `kubectl kustomize` must build the kustomization. Compose: every build names a Dockerfile that exists, every
depends_on a service.
This is no substitute for `kubectl apply --dry-run=server` or `docker compose config` where those are available.
"""
import os
import re
import shutil
import subprocess
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
    applied = {name: file_docs for name, file_docs in docs.items() if name in kustomization.get("resources", [])}
    check_orleans_kubernetes(applied)
    check_scaling(applied)
    return sum(len(d) for d in docs.values()) + 1


def all_of(docs, kind):
    return [d for file_docs in docs.values() for d in file_docs if d.get("kind") == kind]


def selects(selector, workload):
    return bool(selector) and selector.items() <= workload["spec"]["template"]["metadata"].get("labels", {}).items()


def effective_env(container, docs):
    """What the container's environment holds: envFrom ConfigMaps (example Secrets are not applied), then env, which wins.
    A value from the downward API is ("fieldRef", path)."""
    config_maps = {d["metadata"]["name"]: d for d in all_of(docs, "ConfigMap")}
    env = {}
    for source in container.get("envFrom", []):
        if "configMapRef" in source and source["configMapRef"]["name"] in config_maps:
            env.update(config_maps[source["configMapRef"]["name"]].get("data") or {})
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = variable["value"]
        elif "fieldRef" in variable.get("valueFrom", {}):
            env[variable["name"]] = ("fieldRef", variable["valueFrom"]["fieldRef"]["fieldPath"])
        else:
            env[variable["name"]] = ("other", None)
    return env


LABEL_VALUE = re.compile(r"^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$")
# What Microsoft.Orleans.Hosting.Kubernetes 10.4.2 calls (KubernetesClusterAgent): read its own pod, patch its labels,
# list and watch the cluster's pods; delete the pods of dead silos only with DeleteDefunctSiloPods.
ORLEANS_POD_VERBS = {"get", "list", "watch", "patch"}


def check_orleans_kubernetes(docs):
    cluster_ids = {}
    for workload in all_of(docs, "Deployment") + all_of(docs, "StatefulSet"):
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        pod = workload["spec"]["template"]
        for container in pod["spec"]["containers"]:
            env = effective_env(container, docs)
            if isinstance(env.get("Orleans__ClusterId"), str):
                cluster_ids.setdefault((env["Orleans__ClusterId"], env.get("Orleans__ServiceId", "grouppay")), []).append(where)
            if str(env.get("Orleans__KubernetesHosting", "false")).lower() != "true":
                continue
            labels = pod["metadata"].get("labels", {})
            for label, key, variable in (("orleans/serviceId", "Orleans__ServiceId", "ORLEANS_SERVICE_ID"),
                                         ("orleans/clusterId", "Orleans__ClusterId", "ORLEANS_CLUSTER_ID")):
                value = env.get(key)
                if not isinstance(value, str):
                    fail(where, f"Orleans__KubernetesHosting needs {key} from a ConfigMap or a plain env value")
                    continue
                if label not in labels:
                    fail(where, f"pod label {label} is missing (Orleans__KubernetesHosting; {key} is {value})")
                elif labels[label] != value:
                    fail(where, f"pod label {label} is {labels[label]}, but {key} is {value}")
                if not LABEL_VALUE.match(value):
                    fail(where, f"{key} {value} is not a valid label value")
                if variable in env and env[variable] != value:
                    fail(where, f"{variable} {env[variable]} differs from {key} {value}")
            for variable, path in (("POD_NAME", "metadata.name"), ("POD_NAMESPACE", "metadata.namespace")):
                if env.get(variable) != ("fieldRef", path):
                    fail(where, f"Orleans__KubernetesHosting needs {variable} from the downward API ({path})")
            if "POD_IP" in env and env["POD_IP"] != ("fieldRef", "status.podIP"):
                fail(where, "POD_IP must come from the downward API (status.podIP)")
            check_pod_rights(where, pod["spec"], env, docs)
    if len(cluster_ids) > 1:
        fail("kubernetes", f"the workloads read different Orleans cluster ids (ClusterId, ServiceId): {cluster_ids}")


def check_pod_rights(where, pod_spec, env, docs):
    """The pod's ServiceAccount is bound to a Role that grants what the package calls on pods."""
    account = pod_spec.get("serviceAccountName", "default")
    accounts = {d["metadata"]["name"]: d for d in all_of(docs, "ServiceAccount")}
    if account not in accounts:
        return fail(where, f"serviceAccountName {account} is not defined (a ServiceAccount for the Orleans pod watch)")
    if pod_spec.get("automountServiceAccountToken", accounts[account].get("automountServiceAccountToken", True)) is False:
        fail(where, "automountServiceAccountToken is false: the package's in-cluster client needs the token")
    needed = set(ORLEANS_POD_VERBS)
    if str(env.get("Orleans__Kubernetes__DeleteDefunctSiloPods", "false")).lower() == "true":
        needed.add("delete")
    roles = {d["metadata"]["name"]: d for d in all_of(docs, "Role")}
    granted = set()
    for binding in all_of(docs, "RoleBinding"):
        bound = any(s.get("kind") == "ServiceAccount" and s.get("name") == account for s in binding.get("subjects", []))
        ref = binding.get("roleRef", {})
        if not bound:
            continue
        if ref.get("kind") != "Role" or ref.get("name") not in roles:
            fail(f"RoleBinding/{binding['metadata']['name']}", f"roleRef {ref.get('kind')}/{ref.get('name')} is not a Role defined here")
            continue
        for rule in roles[ref["name"]].get("rules", []):
            if "" in rule.get("apiGroups", []) and ({"pods", "*"} & set(rule.get("resources", []))):
                verbs = set(rule.get("verbs", []))
                granted |= ORLEANS_POD_VERBS | {"delete"} if "*" in verbs else verbs
    if not needed <= granted:
        fail(where, f"ServiceAccount {account} may not {', '.join(sorted(needed - granted))} pods (a Role and RoleBinding must grant it)")


def duration_seconds(text):
    match = re.fullmatch(r"(?:(\d+)\.)?(\d+):(\d{2}):(\d{2})(?:\.\d+)?", str(text).strip())
    if not match:
        return None
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


def pre_stop_seconds(container):
    command = container.get("lifecycle", {}).get("preStop", {}).get("exec", {}).get("command", [])
    return int(command[1]) if len(command) == 2 and command[0] == "sleep" and str(command[1]).isdigit() else 0


def check_scaling(docs):
    deployments = {d["metadata"]["name"]: d for d in all_of(docs, "Deployment")}
    workloads = list(deployments.values()) + all_of(docs, "StatefulSet")
    autoscaled = {}
    for hpa in all_of(docs, "HorizontalPodAutoscaler"):
        where = f"HorizontalPodAutoscaler/{hpa['metadata']['name']}"
        if hpa.get("apiVersion") != "autoscaling/v2":
            fail(where, f"apiVersion is {hpa.get('apiVersion')}, not autoscaling/v2")
        spec = hpa["spec"]
        target = spec.get("scaleTargetRef", {})
        if target.get("kind") != "Deployment" or target.get("name") not in deployments or target.get("apiVersion") != "apps/v1":
            fail(where, f"scaleTargetRef {target} is not a Deployment defined here")
            continue
        deployment = deployments[target["name"]]
        autoscaled[target["name"]] = spec.get("minReplicas", 1)
        if spec.get("minReplicas", 1) < 2 or spec.get("maxReplicas", 0) < spec.get("minReplicas", 1):
            fail(where, "needs 2 <= minReplicas <= maxReplicas")
        if "replicas" in deployment["spec"]:
            fail(where, f"Deployment/{target['name']} sets replicas, which every kubectl apply would force back over the autoscaler's")
        for metric in spec.get("metrics", []):
            resource = metric.get("resource", {}).get("name") if metric.get("type") == "Resource" else None
            if resource and metric["resource"]["target"].get("type") == "Utilization":
                for container in deployment["spec"]["template"]["spec"]["containers"]:
                    if resource not in container.get("resources", {}).get("requests", {}):
                        fail(where, f"scales on {resource} utilisation, but container {container['name']} requests no {resource}")
        if not spec.get("metrics"):
            fail(where, "no metrics")
    pdbs = all_of(docs, "PodDisruptionBudget")
    for workload in workloads:
        where = f"{workload['kind']}/{workload['metadata']['name']}"
        name = workload["metadata"]["name"]
        replicas = autoscaled.get(name, workload["spec"].get("replicas", 1))
        budgets = [b for b in pdbs if selects(b["spec"].get("selector", {}).get("matchLabels", {}), workload)]
        if workload["kind"] == "StatefulSet" and replicas == 1 and not budgets:
            continue  # one Redis: a budget could only block every drain or protect nothing (deploy/README.md)
        if len(budgets) != 1:
            fail(where, f"{len(budgets)} PodDisruptionBudgets select it; one is wanted")
            continue
        budget = budgets[0]["spec"]
        if "minAvailable" in budget and not (isinstance(budget["minAvailable"], int) and 1 <= budget["minAvailable"] < replicas):
            fail(where, f"PodDisruptionBudget minAvailable {budget['minAvailable']} must keep a pod and let one of {replicas} go")
        if "maxUnavailable" in budget and not (isinstance(budget["maxUnavailable"], int) and 1 <= budget["maxUnavailable"] < replicas):
            fail(where, f"PodDisruptionBudget maxUnavailable {budget['maxUnavailable']} must let one of {replicas} go and keep one")
    for workload in deployments.values():
        where = f"Deployment/{workload['metadata']['name']}"
        pod = workload["spec"]["template"]["spec"]
        grace = pod.get("terminationGracePeriodSeconds", 30)
        for container in pod["containers"]:
            if not container.get("image", "").startswith("grouppay/"):
                continue
            env = effective_env(container, docs)
            budget = duration_seconds(env["Orleans__ShutdownTimeout"]) if "Orleans__ShutdownTimeout" in env else 30
            if budget is None:
                fail(where, f"Orleans__ShutdownTimeout {env['Orleans__ShutdownTimeout']} is not hh:mm:ss")
                continue
            needed = pre_stop_seconds(container) + budget
            if grace <= needed:
                fail(where, f"terminationGracePeriodSeconds {grace} must exceed the preStop pause plus the graceful stop budget ({needed} s)")


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
            paths = health_paths(container.get("image", ""))
            if "httpGet" in probe and paths is not None and probe["httpGet"].get("path") not in paths:
                fail(where, f"{probe_name} calls {probe['httpGet'].get('path')}, which {container['image']} does not map (it maps {sorted(paths)})")
        for mount in container.get("volumeMounts", []):
            if mount["name"] not in volumes and not spec.get("volumeClaimTemplates"):
                fail(where, f"volumeMount {mount['name']} has no volume")
    if doc["kind"] == "Deployment" and pod.get("terminationGracePeriodSeconds", 30) < 30:
        fail(where, "terminationGracePeriodSeconds below 30")


def health_paths(image):
    """The paths a grouppay/NAME image maps with MapHealthChecks: the project its Dockerfile publishes and the projects
    it references (ServiceDefaults maps the shared ones), searched. None for other images."""
    match = re.fullmatch(r"grouppay/([\w-]+)", image)
    dockerfile = os.path.join(HERE, "docker", f"{match.group(1)}.Dockerfile") if match else None
    if not dockerfile or not os.path.exists(dockerfile):
        return None
    project = re.search(r"dotnet publish (\S+\.csproj)", open(dockerfile, encoding="utf-8").read())
    projects, pending = set(), [os.path.normpath(os.path.join(ROOT, project.group(1)))]
    while pending:
        csproj = pending.pop()
        if csproj in projects or not os.path.exists(csproj):
            continue
        projects.add(csproj)
        for reference in re.findall(r'ProjectReference Include="([^"]+)"', open(csproj, encoding="utf-8").read()):
            pending.append(os.path.normpath(os.path.join(os.path.dirname(csproj), reference.replace("\\", os.sep))))
    paths = set()
    for csproj in projects:
        for folder, _, files in os.walk(os.path.dirname(csproj)):
            if os.sep + "bin" in folder or os.sep + "obj" in folder:
                continue
            for name in files:
                if name.endswith(".cs"):
                    paths |= set(re.findall(r'MapHealthChecks\("([^"]+)"', open(os.path.join(folder, name), encoding="utf-8").read()))
    return paths


def check_schemas():
    """deploy/schema/check.mjs (the API's JSON schemas) when its packages are installed; kubectl kustomize when kubectl
    is here. Says what it skipped."""
    notes = []
    schema = os.path.join(HERE, "schema")
    if not shutil.which("node"):
        notes.append("schemas not checked: no Node.js")
    elif not os.path.isdir(os.path.join(schema, "node_modules", "kubernetes-models")):
        notes.append("schemas not checked: run `npm ci --prefix deploy/schema` first")
    else:
        result = subprocess.run(["node", os.path.join(schema, "check.mjs")], capture_output=True, text=True, timeout=120)
        lines = result.stdout.strip().splitlines()
        for line in lines[:-1]:
            fail("schema", line.removeprefix("schema: "))
        notes.append(lines[-1] if lines else "schema check printed nothing")
        if result.returncode != 0 and len(lines) <= 1:
            fail("schema", (result.stderr.strip() or "check.mjs failed")[-500:])
    if shutil.which("kubectl"):
        result = subprocess.run(["kubectl", "kustomize", os.path.join(HERE, "kubernetes")], capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            fail("kubectl kustomize", result.stderr.strip()[-500:])
        else:
            notes.append(f"kubectl kustomize: {len([d for d in yaml.safe_load_all(result.stdout) if d])} documents built")
    else:
        notes.append("kustomization not built: no kubectl")
    return notes


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
notes = check_schemas()
for error in errors:
    print("deploy: " + error)
for note in notes:
    print("deploy: " + note)
print(f"deploy: {kubernetes} Kubernetes documents, {services} compose services, {dockerfiles} Dockerfiles checked; "
      f"{len(errors)} problem(s)")
sys.exit(1 if errors else 0)
