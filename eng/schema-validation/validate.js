// Validates JSON documents against a JSON Schema with ajv; used by the tests (no .NET JSON Schema library is
// available here). Usage:
//   node validate.js <schema.json> [--ref <other-schema.json>]... [--strict-formats] <document.json>...
// Prints one line per document: "ok <file>" or "invalid <file> <json array of errors>". Exit 0 when all are valid,
// 1 when any is invalid, 2 on bad usage or an unreadable schema.
"use strict";
const fs = require("fs");
const path = require("path");
const addFormats = require("ajv-formats");

function load(file) {
  return JSON.parse(fs.readFileSync(file, "utf8"));
}

const args = process.argv.slice(2);
if (args.length < 2) {
  console.error("usage: validate.js <schema.json> [--ref <schema.json>]... <document.json>...");
  process.exit(2);
}
const schema = load(args.shift());
const refs = [];
const docs = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] === "--ref") refs.push(load(args[++i]));
  else docs.push(args[i]);
}

// The draft a schema declares picks the ajv class: 2020-12 (OSV), 2019-09, or draft-07 (CycloneDX, SPDX 2.3).
const draft = String(schema.$schema || "");
const Ajv = draft.includes("2020-12")
  ? require("ajv/dist/2020")
  : draft.includes("2019-09")
    ? require("ajv/dist/2019")
    : require("ajv");
const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
addFormats(ajv);
// CycloneDX uses formats ajv-formats lacks; they are annotations for this check.
for (const f of ["idn-email", "iri-reference", "iri", "idn-hostname"]) {
  if (!ajv.formats[f]) ajv.addFormat(f, true);
}
for (const r of refs) {
  const id = r.$id || r.id;
  if (id && !ajv.getSchema(id)) ajv.addSchema(r, id);
  // CycloneDX refers to siblings by file name ("spdx.schema.json"), relative to its own $id.
}
let validate;
try {
  validate = ajv.compile(schema);
} catch (e) {
  console.error("schema does not compile: " + e.message);
  process.exit(2);
}
let bad = 0;
for (const file of docs) {
  let doc;
  try {
    doc = load(file);
  } catch (e) {
    console.log("invalid " + file + " " + JSON.stringify([{ message: "not JSON: " + e.message }]));
    bad++;
    continue;
  }
  if (validate(doc)) console.log("ok " + file);
  else {
    bad++;
    console.log("invalid " + file + " " + JSON.stringify(validate.errors.slice(0, 5)));
  }
}
process.exit(bad ? 1 : 0);
