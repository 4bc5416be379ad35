// Reproduce the golden predictions of tests/export/golden from the bundle's ONNX files with
// onnxruntime-node: proof that another runtime (a C#/Java/Go/JS bot) can load the same files.
//
//   cd tests/node && ONNXRUNTIME_NODE_INSTALL=skip npm install && node golden.js
//
// 1. each head graph on the golden feature matrix; 2. the bundle's raw-input graph
// (manifest.json "raw_input") fed raw opportunity fields by name (numbers float64, NaN when
// missing; categories strings, "" when missing) against the in-process Scorer's predictions in
// golden_raw.json. No feature code here: the graph computes it. Prints one JSON line; exits 1
// on a mismatch.
"use strict";
const fs = require("fs");
const path = require("path");
const ort = require("onnxruntime-node");

const GOLDEN = path.join(__dirname, "..", "export", "golden");
const TOL = 1e-4;
const RAW_TOL = 1e-5; // raw-input graph vs the in-process Scorer (golden_raw.json)

async function main() {
  const golden = JSON.parse(fs.readFileSync(path.join(GOLDEN, "golden.json"), "utf8"));
  const manifest = JSON.parse(fs.readFileSync(path.join(GOLDEN, "bundle", "manifest.json"), "utf8"));
  const rows = golden.X.length;
  const width = golden.X[0].length;
  const sessions = {};
  for (const head of Object.values(manifest.heads)) {
    if (!sessions[head.file]) {
      sessions[head.file] = await ort.InferenceSession.create(path.join(GOLDEN, "bundle", head.file));
    }
  }
  const run = async (head, matrix) => {
    const { file, output } = manifest.heads[head];
    const input = new ort.Tensor("float32", Float32Array.from(matrix.flat()), [rows, width]);
    const out = await sessions[file].run({ features: input }, [output]);
    return Array.from(out[output].data);
  };
  let worst = 0;
  const check = (got, want, what, tol = TOL) => {
    if (got.length !== want.length) throw new Error(`${what}: ${got.length} values, want ${want.length}`);
    got.forEach((g, i) => {
      const err = Math.abs(g - want[i]) / Math.max(1, Math.abs(want[i]));
      worst = Math.max(worst, err);
      if (!(err <= tol)) throw new Error(`${what}[${i}]: node ${g} vs golden ${want[i]}`);
    });
  };
  // 1. every graph output on the golden feature matrix
  for (const [file, outputs] of Object.entries(golden.graphs)) {
    const input = new ort.Tensor("float32", Float32Array.from(golden.X.flat()), [rows, width]);
    const result = await sessions[file].run({ features: input });
    for (const [name, want] of Object.entries(outputs)) check(Array.from(result[name].data), want, `${file}:${name}`);
  }
  // 2. the served predictions from raw opportunity fields: the bundle's raw-input graph
  //    (features, both passes and the composite inside), fed by the names in manifest.raw_input
  const raw = JSON.parse(fs.readFileSync(path.join(GOLDEN, "golden_raw.json"), "utf8"));
  const spec = manifest.raw_input;
  const rawSession = await ort.InferenceSession.create(path.join(GOLDEN, "bundle", spec.file));
  const n = raw.records.length;
  const feeds = {};
  for (const { name, type, field } of spec.inputs) {
    const values = raw.records.map((r) => (name in r ? r[name] : r[field]));
    feeds[name] =
      type === "string"
        ? new ort.Tensor("string", values.map((v) => (v == null ? "" : String(v))), [n])
        : new ort.Tensor("float64", Float64Array.from(values, (v) => (v == null ? NaN : Number(v))), [n]);
  }
  const names = spec.outputs.map((o) => o.name).filter((k) => k !== "features");
  const result = await rawSession.run(feeds, names);
  for (const k of names) {
    const want = raw.predictions.map((p) => p[k]);
    check(Array.from(result[k].data), want, `raw_input:${k}`, RAW_TOL);
  }
  console.log(JSON.stringify({ ok: true, rows, raw_rows: n, max_rel_error: worst, onnxruntime: require("onnxruntime-node/package.json").version }));
}

main().catch((err) => {
  console.error(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
