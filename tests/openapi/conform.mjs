// Checks live answers of the daemon against the OpenAPI document that daemon served.
//
//   node conform.mjs EXCHANGES.json [--every-operation]
//   node conform.mjs --document OPENAPI.json --answers DIR
//
// EXCHANGES.json: {"document": <the /openapi.json answer>, "exchanges": [{"method",
// "target", "status", "contentType", "body", "headers"?}, ...]} (header names in
// lower case). The second form reads the same
// exchanges, one JSON object a line, from every *.jsonl file of DIR (what api_test
// records with TRASHD_API_ANSWERS_DIR set). Each exchange is matched to its
// operation the way the router matches (literal segments before parameters); its status
// must be one the operation documents, its media type that response's, and its body
// valid against that response's schema (JSON Schema 2020-12, with ajv). A request no
// operation takes must have been answered 404 or 405 with an Error body.
// --every-operation: also fail unless every documented operation answered its success
// (200; a redirect's 302) at least once. Prints one line per problem; exits 1 if there was any.
import { readdirSync, readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import addFormats from "ajv-formats";

const args = process.argv.slice(2);
const flags = args.filter((a) => a === "--every-operation");
const option = (name) => args[args.indexOf(name) + 1];
let doc;
let exchanges;
let file;
if (args.includes("--answers")) {
  file = option("--answers");
  doc = JSON.parse(readFileSync(option("--document"), "utf8"));
  exchanges = readdirSync(file)
    .filter((name) => name.endsWith(".jsonl"))
    .flatMap((name) => readFileSync(`${file}/${name}`, "utf8").split("\n"))
    .filter((line) => line.trim() !== "")
    .map((line) => JSON.parse(line));
  if (exchanges.length === 0) {
    console.log(`${file}: no answers recorded`);
    process.exit(1);
  }
} else {
  file = args[0];
  ({ document: doc, exchanges } = JSON.parse(readFileSync(file, "utf8")));
}

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
// The document's components, as one schema the compiled answers refer into.
ajv.addSchema({ $id: "openapi.json", $defs: Rebased(doc.components.schemas) });

// `value` with every "#/components/schemas/X" reference pointed into "openapi.json".
function Rebased(value) {
  if (Array.isArray(value)) return value.map(Rebased);
  if (value === null || typeof value !== "object") return value;
  const out = {};
  for (const [k, v] of Object.entries(value)) {
    out[k] =
      k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/")
        ? "openapi.json#/$defs/" + v.slice("#/components/schemas/".length)
        : Rebased(v);
  }
  return out;
}

const validators = new Map();
function Validator(schema) {
  const key = JSON.stringify(schema);
  if (!validators.has(key)) validators.set(key, ajv.compile(Rebased(schema)));
  return validators.get(key);
}

// What a "#/components/..." reference points to.
function Resolve(value) {
  if (!value || !value.$ref) return value;
  return value.$ref
    .slice(2)
    .split("/")
    .reduce((at, part) => at[part.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
}

// The operation the router gives `method target`: of the documented paths that match
// the target and have the method, the one with a literal segment where the others have
// a parameter, first from the left (DELETE /api/trash is DELETE /{ws}/{project}).
function OperationOf(method, target) {
  const segments = target.split("?")[0].split("/");
  let best = null;
  let bestRank = null;
  for (const [path, item] of Object.entries(doc.paths)) {
    const parts = path.split("/");
    if (parts.length !== segments.length || !item[method]) continue;
    const fits = parts.every((p, i) =>
      p.startsWith("{") ? segments[i] !== "" : p === segments[i],
    );
    if (!fits) continue;
    const rank = parts.map((p) => (p.startsWith("{") ? "1" : "0")).join("");
    if (bestRank === null || rank < bestRank) [best, bestRank] = [item[method], rank];
  }
  return best;
}

// The content `response` documents for `mediaType`: its own, else its range
// ("text/*"), else "*/*" (a file route answers each file with its own type).
function ContentOf(response, mediaType) {
  const all = response.content || {};
  return all[mediaType] || all[mediaType.split("/")[0] + "/*"] || all["*/*"];
}

// An operation's success: 200, or for a redirect its 3XX.
function SuccessOf(op) {
  return Object.keys(op.responses).find((s) => /^[23]/.test(s));
}

const problems = [];
const answered = new Set();
const errorSchema = Validator({ $ref: "#/components/schemas/Error" });

function CheckBody(what, mediaType, schema, ex) {
  if (mediaType !== "application/json") {
    if (!Validator(schema)(ex.body)) problems.push(`${what}: the body is not a ${schema.type}`);
    return;
  }
  let body;
  try {
    body = JSON.parse(ex.body);
  } catch (e) {
    problems.push(`${what}: the body is not JSON: ${e.message}`);
    return;
  }
  const validate = Validator(schema);
  if (!validate(body)) {
    const why = validate.errors.map((e) => `${e.instancePath || "/"} ${e.message}`);
    problems.push(`${what}: ${why.join("; ")}\n    body: ${ex.body.slice(0, 400)}`);
  }
}

for (const ex of exchanges) {
  const what = `${ex.method} ${ex.target.replace(/api_key=[^&]*/, "api_key=…")} -> ${ex.status}`;
  const op = OperationOf(ex.method.toLowerCase(), ex.target);
  const mediaType = (ex.contentType || "").split(";")[0].trim();
  if (!op) {
    if (![404, 405].includes(ex.status)) problems.push(`${what}: no operation takes it`);
    else if (!errorSchema(JSON.parse(ex.body))) problems.push(`${what}: not an Error body`);
    continue;
  }
  const id = op.operationId;
  const response = Resolve(op.responses[String(ex.status)]);
  if (!response) {
    problems.push(`${what}: ${id} does not document status ${ex.status}`);
    continue;
  }
  const content = ContentOf(response, mediaType);
  if (!content) {
    problems.push(`${what}: ${id} ${ex.status} does not document ${mediaType || "no body"}`);
    continue;
  }
  CheckBody(`${what} (${id})`, mediaType, content.schema, ex);
  for (const name of Object.keys(response.headers || {})) {
    if (ex.headers && !(name.toLowerCase() in ex.headers)) {
      problems.push(`${what} (${id}): no ${name} header`);
    }
  }
  if (String(ex.status) === SuccessOf(op)) answered.add(id);
}

if (flags.includes("--every-operation")) {
  for (const item of Object.values(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method !== "parameters" && !answered.has(op.operationId)) {
        problems.push(`${op.operationId}: no exchange answered ${SuccessOf(op)}`);
      }
    }
  }
}

for (const p of problems) console.log(p);
console.log(
  `${exchanges.length} answers checked against ${file}: ${problems.length} problem(s); ` +
    `${answered.size} operations answered their success`,
);
process.exit(problems.length ? 1 : 0);
