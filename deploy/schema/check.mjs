// Checks every document of deploy/kubernetes/*.yaml (the kustomization aside) against the JSON schema of its
// apiVersion and kind, as kubernetes-models ships them (generated from the Kubernetes OpenAPI): required fields, types,
// formats. It does not catch unknown fields (a misspelt key is ignored, as by a lenient API server):
// `kubectl apply --dry-run=server` against a cluster does. Run by deploy/validate.py after `npm ci` here.
//   node deploy/schema/check.mjs [folder]   (prints one line per problem, then a summary; exit code 1 on a problem)
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));
const folder = process.argv[2] ?? join(here, "..", "kubernetes");
const problems = [];
let checked = 0;

// "apps/v1" -> kubernetes-models/apps/v1, "v1" -> kubernetes-models/v1; the kind is the exported class.
async function modelOf(apiVersion, kind) {
  try {
    const models = await import(`kubernetes-models/${apiVersion}`);
    return models[kind];
  } catch {
    return undefined;
  }
}

for (const file of readdirSync(folder).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml").sort()) {
  for (const document of parseAllDocuments(readFileSync(join(folder, file), "utf8"))) {
    const data = document.toJS();
    if (data == null) {
      continue;
    }
    const where = `${file} ${data.kind}/${data.metadata?.name}`;
    const Model = await modelOf(data.apiVersion, data.kind);
    if (!Model) {
      problems.push(`${where}: no schema for ${data.apiVersion} ${data.kind}`);
      continue;
    }
    checked++;
    try {
      new Model(data).validate();
    } catch (error) {
      for (const e of error.errors ?? [{ instancePath: "", message: error.message }]) {
        problems.push(`${where}: ${e.instancePath || "/"} ${e.message}`);
      }
    }
  }
}

for (const problem of problems) {
  console.log("schema: " + problem);
}
console.log(`schema: ${checked} Kubernetes documents checked against the API's schemas; ${problems.length} problem(s)`);
process.exit(problems.length ? 1 : 0);
