// Reproduce the golden predictions of tests/export/golden from the bundle's ONNX files with
// onnxruntime-node: proof that another runtime (a C#/Java/Go/JS bot) can load the same files.
//
//   cd tests/node && ONNXRUNTIME_NODE_INSTALL=skip npm install && node golden.js
//
// Follows manifest.json: duration head first, then profit and success with the hold column set
// to the predicted hold clipped to [1, 168] h (or the caller's hold), then composite_score as
// documented in arbscore/serve/composite.py. Prints one JSON line; exits 1 on a mismatch.
"use strict";
const fs = require("fs");
const path = require("path");
const ort = require("onnxruntime-node");

const GOLDEN = path.join(__dirname, "..", "export", "golden");
const TOL = 1e-4;

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
  const check = (got, want, what) => {
    got.forEach((g, i) => {
      const err = Math.abs(g - want[i]) / Math.max(1, Math.abs(want[i]));
      worst = Math.max(worst, err);
      if (!(err <= TOL)) throw new Error(`${what}[${i}]: node ${g} vs golden ${want[i]}`);
    });
  };
  // 1. every graph output on the golden feature matrix
  for (const [file, outputs] of Object.entries(golden.graphs)) {
    const input = new ort.Tensor("float32", Float32Array.from(golden.X.flat()), [rows, width]);
    const result = await sessions[file].run({ features: input });
    for (const [name, want] of Object.entries(outputs)) check(Array.from(result[name].data), want, `${file}:${name}`);
  }
  // 2. the served predictions (two passes, as the server does)
  const duration = await run("duration", golden.X);
  const holdCol = manifest.input.hold_column;
  const X2 = golden.X.map((row, i) => {
    const r = row.slice();
    const given = golden.hold[i];
    r[holdCol] = given === null ? Math.min(Math.max(duration[i], 1), 168) : given;
    return r;
  });
  const profit = await run("profit", X2);
  const success = await run("success", X2);
  const manifestScale = 0.05; // CompositeConfig.scale_pct_per_day (arbscore/serve/composite.py)
  const composite = profit.map((pr, i) => {
    const r = (pr * 24) / Math.min(Math.max(duration[i], 1), 168);
    const p = Math.min(Math.max(success[i], 0), 1);
    const u = 4 * p * (1 - p);
    const adj = r - 0.5 * u * Math.abs(r);
    return 100 / (1 + Math.exp(-Math.asinh(adj / manifestScale)));
  });
  const want = (k) => golden.predictions.map((p) => p[k]);
  check(duration, want("predicted_hold_hours"), "predicted_hold_hours");
  check(profit, want("predicted_profit_pct"), "predicted_profit_pct");
  check(success, want("success_probability"), "success_probability");
  check(composite, want("composite_score"), "composite_score");
  console.log(JSON.stringify({ ok: true, rows, max_rel_error: worst, onnxruntime: require("onnxruntime-node/package.json").version }));
}

main().catch((err) => {
  console.error(String(err && err.stack ? err.stack : err));
  process.exit(1);
});
