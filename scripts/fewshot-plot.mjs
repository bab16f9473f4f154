#!/usr/bin/env node
// Compares few-shot sweeps of several models (one eval.json of `mmft eval recipe --shots` per
// bridge): writes one SVG with a panel per metric (x = shots, a line per bridge) and prints a
// markdown table (a row per bridge, a column per metric@shots) on stdout. The drawing is the CLI's
// own (packages/cli/src/eval/shots-report.ts), read from its build, so build first (`pnpm build`,
// or `cd packages/cli && npx tsc -b`). docs/metrics.md, "Few-shot sweeps".
// NAME=a.json,b.json,... averages several sweeps of one model (one per few_shot.seed, as open_flamingo
// averages its --num_trials): each score is the mean over the files, which must sweep the same shots.
// Usage: node scripts/fewshot-plot.mjs --out docs/fewshot.svg [--title T] [--metrics caption.cider,vqa.accuracy] NAME=path/to/eval.json[,more.json] ...
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(path.join(root, 'package.json'));
const built = path.join(root, 'packages/cli/dist/eval/shots-report.js');

const USAGE =
  'usage: node scripts/fewshot-plot.mjs --out FILE.svg [--title T] [--metrics a,b] NAME=eval.json[,eval2.json ...] [NAME=... ...]';

function fail(message) {
  process.stderr.write(`fewshot-plot: ${message}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const o = { out: undefined, title: 'few-shot evaluation', metrics: undefined, runs: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out' || a === '--title' || a === '--metrics') {
      const value = argv[++i];
      if (value === undefined) fail(`${a} needs a value\n${USAGE}`);
      if (a === '--metrics')
        o.metrics = value
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
      else o[a.slice(2)] = value;
    } else if (a === '--help' || a === '-h') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (/^[^=-][^=]*=.+/.test(a)) {
      const at = a.indexOf('=');
      o.runs.push({ name: a.slice(0, at), file: a.slice(at + 1) });
    } else {
      fail(`unexpected argument "${a}" (a run is NAME=path/to/eval.json)\n${USAGE}`);
    }
  }
  if (!o.out) fail(`--out is required\n${USAGE}`);
  if (o.runs.length === 0) fail(`give at least one NAME=path/to/eval.json\n${USAGE}`);
  const names = o.runs.map((r) => r.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) fail(`the name "${twice}" is given twice; each line of the plot needs its own name`);
  return o;
}

/** An eval.json of `mmft eval recipe --shots`, checked enough that a wrong file is named, not drawn. */
function readSweep(file) {
  let doc;
  try {
    doc = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`${file}: cannot read it as JSON (${error.message})`);
  }
  const entries = doc?.shots;
  if (!Array.isArray(entries) || entries.length === 0) {
    fail(`${file}: no "shots" list; this reads the eval.json that \`mmft eval recipe --shots 0,2,4\` writes`);
  }
  entries.forEach((e, i) => {
    if (!Number.isInteger(e?.shots) || typeof e.metrics !== 'object' || e.metrics === null) {
      fail(`${file}: shots.${i} needs a whole number "shots" and a "metrics" object`);
    }
  });
  return doc;
}

const o = parseArgs(process.argv.slice(2));
if (!fs.existsSync(built))
  fail(`${path.relative(root, built)} is missing: build the CLI first (pnpm build, or cd packages/cli && npx tsc -b)`);
const { compareMarkdown, compareSvg, comparedMetrics } = require(built);
/** The mean of several sweeps of one model (seeds): per shots, each metric and evalLoss averaged over the files. */
function meanSweep(files) {
  const docs = files.map((f) => readSweep(path.resolve(f)));
  if (docs.length === 1) return docs[0];
  const shotsOf = (d) => d.shots.map((e) => e.shots).join(',');
  const odd = docs.findIndex((d) => shotsOf(d) !== shotsOf(docs[0]));
  if (odd > 0)
    fail(`${files[odd]} sweeps shots ${shotsOf(docs[odd])}, ${files[0]} ${shotsOf(docs[0])}: averaged files must sweep the same shots`);
  const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length;
  return {
    ...docs[0],
    averagedOver: files,
    shots: docs[0].shots.map((entry, i) => {
      const keys = Object.keys(entry.metrics);
      const missing = docs.findIndex((d) => keys.some((k) => typeof d.shots[i].metrics[k] !== 'number'));
      if (missing >= 0) fail(`${files[missing]}: shots.${i} lacks one of ${keys.join(', ')}; averaged files must report the same metrics`);
      const losses = docs.map((d) => d.shots[i].evalLoss);
      return {
        shots: entry.shots,
        metrics: Object.fromEntries(keys.map((k) => [k, mean(docs.map((d) => d.shots[i].metrics[k]))])),
        ...(losses.every((l) => typeof l === 'number') ? { evalLoss: mean(losses) } : {}),
      };
    }),
  };
}

const runs = o.runs.map(({ name, file }) => ({ name, doc: meanSweep(file.split(',')) }));
if (o.metrics) {
  const known = new Set(comparedMetrics(runs));
  const unknown = o.metrics.filter((m) => !known.has(m));
  if (unknown.length > 0) fail(`--metrics ${unknown.join(', ')}: no run reports it; the runs report ${[...known].join(', ')}`);
}
fs.mkdirSync(path.dirname(path.resolve(o.out)), { recursive: true });
fs.writeFileSync(o.out, compareSvg(o.title, runs, o.metrics));
process.stdout.write(`${compareMarkdown(runs, o.metrics).join('\n')}\n`);
process.stderr.write(`wrote ${o.out}\n`);
