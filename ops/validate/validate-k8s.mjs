// Validates Kubernetes manifests offline against the schemas bundled in the kubernetes-models
// packages (Kubernetes' OpenAPI schemas; KEDA and Prometheus Operator CRD schemas), like
// `kubeconform -strict`:
//   1. schema: every document is validated with its kind's JSON-schema validator (types, required
//      fields, enums, formats);
//   2. strict: every document is type-checked by TypeScript against its kind's interface, whose
//      excess-property check rejects fields the schema does not know (e.g. a misspelled
//      `livenesProbe`, which the JSON schemas alone accept).
//
// usage: node validate-k8s.mjs DIR_OR_FILE...      (kustomization.yaml files are skipped)
// Prints one line per document, then "N passed, M failed"; exits 1 if any failed, 2 on bad usage.
import { readFileSync, readdirSync, statSync, mkdirSync, writeFileSync, rmSync } from "node:fs";
import { join, basename, dirname, resolve, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnSync } from "node:child_process";
import { parseAllDocuments } from "yaml";

const here = dirname(fileURLToPath(import.meta.url));

/** apiVersion → module folder of the model classes and interfaces. */
function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : ["", apiVersion];
  if (group === "keda.sh") return `@kubernetes-models/keda/keda.sh/${version}/${kind}`;
  if (group === "monitoring.coreos.com") return `@kubernetes-models/prometheus-operator/monitoring.coreos.com/${version}/${kind}`;
  if (group === "") return `kubernetes-models/${version}/${kind}`;
  return `kubernetes-models/${group}/${version}/${kind}`;
}

function yamlFiles(args) {
  const out = [];
  for (const a of args) {
    const p = resolve(a);
    if (statSync(p).isDirectory()) {
      for (const f of readdirSync(p).sort()) {
        if (/\.ya?ml$/.test(f)) out.push(join(p, f));
      }
    } else {
      out.push(p);
    }
  }
  return out.filter((f) => basename(f) !== "kustomization.yaml");
}

const args = process.argv.slice(2);
if (args.length === 0) {
  console.error("usage: node validate-k8s.mjs DIR_OR_FILE...");
  process.exit(2);
}

const docs = []; // {file, index, apiVersion, kind, name, data}
const problems = new Map(); // doc label -> [messages]
const label = (d) => `${relative(process.cwd(), d.file)}#${d.index} ${d.kind}/${d.name}`;
const report = (d, msg) => {
  const k = label(d);
  if (!problems.has(k)) problems.set(k, []);
  problems.get(k).push(msg);
};

for (const file of yamlFiles(args)) {
  const parsed = parseAllDocuments(readFileSync(file, "utf8"));
  parsed.forEach((doc, index) => {
    const d = { file, index, kind: "?", name: "?", apiVersion: "?" };
    if (doc.errors.length > 0) {
      docs.push(d);
      report(d, `YAML: ${doc.errors.map((e) => e.message).join("; ")}`);
      return;
    }
    const data = doc.toJS();
    if (data == null) return; // empty document
    Object.assign(d, { data, apiVersion: data.apiVersion, kind: data.kind, name: data.metadata?.name ?? "?" });
    docs.push(d);
    if (typeof data.apiVersion !== "string" || typeof data.kind !== "string") {
      report(d, "apiVersion and kind are required strings");
    }
  });
}

// 1. JSON-schema validation.
for (const d of docs) {
  if (!d.data || problems.has(label(d))) continue;
  let Model;
  try {
    const mod = await import(modulePath(d.apiVersion, d.kind));
    Model = mod[d.kind];
  } catch (e) {
    report(d, `unknown apiVersion/kind ${d.apiVersion} ${d.kind} (no schema in kubernetes-models): ${e.message.split("\n")[0]}`);
    continue;
  }
  try {
    new Model(d.data).validate();
  } catch (e) {
    report(d, `schema: ${e.message}`);
  }
}

// 2. Strict check: one TypeScript file, one typed constant per document.
const strictDir = join(here, ".strict");
rmSync(strictDir, { recursive: true, force: true });
mkdirSync(strictDir, { recursive: true });
const lines = [];
const lineOwner = []; // line number (1-based) -> doc
const typed = docs.filter((d) => d.data && !problems.has(label(d)));
typed.forEach((d, i) => {
  lines.push(`import type { I${d.kind} as T${i} } from "${modulePath(d.apiVersion, d.kind)}";`);
  lineOwner.push(d);
});
typed.forEach((d, i) => {
  const body = `export const d${i}: T${i} = ${JSON.stringify(d.data, null, 2)};`.split("\n");
  for (const l of body) {
    lines.push(l);
    lineOwner.push(d);
  }
});
writeFileSync(join(strictDir, "manifests.ts"), lines.join("\n") + "\n");
if (typed.length > 0) {
  const tsc = spawnSync(process.execPath, [
    join(here, "node_modules", "typescript", "bin", "tsc"),
    "--noEmit", "--strict", "--skipLibCheck", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext",
    join(strictDir, "manifests.ts"),
  ], { cwd: here, encoding: "utf8" });
  if (tsc.error) {
    console.error(`cannot run tsc: ${tsc.error.message}`);
    process.exit(2);
  }
  const out = (tsc.stdout + tsc.stderr).split("\n");
  let last = null;
  for (const l of out) {
    const m = /manifests\.ts\((\d+),\d+\): error (TS\d+): (.*)$/.exec(l);
    if (m) {
      const d = lineOwner[Number(m[1]) - 1];
      const where = lines[Number(m[1]) - 1].trim();
      report(d, `strict: ${m[3]} (at: ${where})`);
      last = d;
    } else if (last && l.startsWith("  ")) {
      report(last, `strict:   ${l.trim()}`);
    } else if (l.trim() && !m && tsc.status !== 0 && !last) {
      console.error(l);
    }
  }
  if (tsc.status !== 0 && problems.size === 0) {
    console.error("tsc failed without errors tied to a document");
    process.exit(2);
  }
}
rmSync(strictDir, { recursive: true, force: true });

let failed = 0;
for (const d of docs) {
  const p = problems.get(label(d));
  if (p) {
    failed++;
    console.log(`FAIL ${label(d)}`);
    for (const m of p) console.log(`     ${m}`);
  } else {
    console.log(`ok   ${label(d)}`);
  }
}
console.log(`${docs.length - failed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);
