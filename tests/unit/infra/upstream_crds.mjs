// Validates Kubernetes custom resources with their upstream CRD schemas, as the
// @kubernetes-models packages compile them (one validator per kind and version, generated from
// the operators' own CRD files). Usage: node upstream_crds.mjs MODELS_DIR < objects.json
// (a JSON array); prints a JSON array with one entry per object: "" when it is valid, else the
// validator's message. MODELS_DIR is where `npm install --prefix` put the packages.
import { pathToFileURL } from "node:url";
import { join } from "node:path";

const PACKAGES = {
  "kafka.strimzi.io": "@kubernetes-models/strimzi-kafka-operator",
  "monitoring.coreos.com": "@kubernetes-models/prometheus-operator",
};

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const objects = JSON.parse(Buffer.concat(chunks).toString());
const results = [];
for (const object of objects) {
  const [group, version] = object.apiVersion.split("/");
  const file = join(process.argv[2], "node_modules", PACKAGES[group], group, version, `${object.kind}.js`);
  const Model = (await import(pathToFileURL(file).href))[object.kind];
  try {
    new Model(object).validate();
    results.push("");
  } catch (error) {
    results.push(String(error.message));
  }
}
console.log(JSON.stringify(results));
