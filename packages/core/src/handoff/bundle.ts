// The two files every handoff bundle has beside the target's own: `mmft-handoff.json`, the manifest
// `mmft import` reads back (which target, where the output lands, which base model), and README.md,
// which says how to launch, what maps one to one, what was converted and what was not carried over.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HandoffData, HandoffGap, HandoffLaunch, HandoffMapping, HandoffPlan, HandoffResult } from '../contracts/handoff';

/** Name of the manifest at the bundle root. */
export const HANDOFF_MANIFEST = 'mmft-handoff.json';
/** Version of the manifest's layout; bumped when a field changes meaning. */
export const HANDOFF_FORMAT_VERSION = 1;

/** What `writeHandoffBundle` records. */
export interface HandoffBundleInput {
  readonly plan: HandoffPlan;
  readonly launch: HandoffLaunch;
  readonly data: HandoffData;
  readonly result: HandoffResult;
  readonly target: { readonly id: string; readonly engine: string };
  readonly mmftVersion: string;
}

/** The manifest as written (JSON). */
export interface HandoffManifest {
  readonly format: 'mmft-handoff';
  readonly formatVersion: number;
  readonly mmftVersion: string;
  readonly createdAt: string;
  readonly recipeFile: string;
  readonly target: { readonly id: string; readonly engine: string };
  /** Bundle-relative folder the engine writes its adapter or checkpoint into. */
  readonly output: string;
  readonly model: { readonly path: string; readonly localPath: string; readonly modelType: string };
  readonly launch: HandoffLaunch;
  readonly data: HandoffData;
  readonly files: readonly string[];
  readonly commands: readonly string[];
  readonly mappings: readonly HandoffMapping[];
  readonly gaps: readonly HandoffGap[];
  readonly plan: HandoffPlan;
}

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function table(header: readonly string[], rows: readonly (readonly string[])[]): string[] {
  if (rows.length === 0) return ['(none)'];
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map((c) => cell(c)).join(' | ')} |`),
  ];
}

/** The bundle README's text. */
export function handoffReadme(input: HandoffBundleInput, manifest: HandoffManifest): string {
  const { plan, launch, data, result, target } = input;
  const world = launch.gpus * launch.nodes;
  const oneToOne = result.mappings.filter((m) => m.note === undefined);
  const converted = result.mappings.filter((m) => m.note !== undefined);
  const script = result.files.find((f) => f === 'launch.sh') ?? result.files.find((f) => f.endsWith('.sh')) ?? 'launch.sh';
  const lines = [
    `# ${plan.name} on ${target.engine}`,
    '',
    `Written by \`mmft handoff --to ${target.id}\` (mmft ${input.mmftVersion}) from \`${plan.recipeFile}\`.`,
    `Base model: \`${plan.model.path}\` (${plan.model.modelType}${plan.model.architecture ? `, ${plan.model.architecture}` : ''}).`,
    `Run: ${launch.nodes} node(s) × ${launch.gpus} GPU(s) = ${world} process(es), ${launch.strategy}, ${launch.precision}.`,
    '',
    '## Launch',
    '',
    'Run from this folder. On one node:',
    '',
    '```sh',
    ...result.commands,
    '```',
    '',
    `On ${launch.nodes > 1 ? launch.nodes : 'several'} nodes, run the same on every node, each with its own rank and the address of node 0:`,
    '',
    '```sh',
    `NNODES=${Math.max(2, launch.nodes)} NODE_RANK=<0..${Math.max(2, launch.nodes) - 1}> MASTER_ADDR=<address of node 0> MASTER_PORT=29500 NPROC_PER_NODE=${launch.gpus} bash ${script}`,
    '```',
    '',
    'Every node needs this folder (and the base model) at the same path, or on a shared filesystem.',
    '',
    '## Data',
    '',
    `\`${data.train}\`: ${data.trainRows} rows${data.eval ? `; \`${data.eval}\`: ${data.evalRows} rows` : ''}; images in \`${data.imagesDir}\` (paths in the rows are relative to \`data/\`).`,
    '',
    '## Maps one to one',
    '',
    ...table(
      ['mmft recipe', target.engine],
      oneToOne.map((m) => [m.mmft, m.target]),
    ),
    '',
    '## Converted',
    '',
    ...table(
      ['mmft recipe', target.engine, 'how'],
      converted.map((m) => [m.mmft, m.target, m.note!]),
    ),
    '',
    '## Not carried over',
    '',
    ...table(
      ['mmft recipe', 'why'],
      manifest.gaps.map((g) => [g.field, g.why]),
    ),
    '',
    '## Bringing the result back',
    '',
    `${target.engine} writes the trained result into \`${result.output}\`. Load it into mmft with:`,
    '',
    '```sh',
    `mmft import ${path.posix.join('<this folder>', result.output)} --out <dir>`,
    '```',
    '',
    `\`mmft import\` finds the base model through \`${HANDOFF_MANIFEST}\` (\`${plan.model.localPath}\`), or take \`--base <model folder>\`. Then \`mmft eval recipe\`, \`mmft generate\`, \`mmft serve\` and \`mmft export\` take the imported folder.`,
    '',
  ];
  return lines.join('\n');
}

/**
 * Writes `mmft-handoff.json` and `README.md` into `bundleDir`; returns the manifest.
 *
 * @example
 * writeHandoffBundle(out, { plan, launch, data, result, target: { id: 'llamafactory', engine: 'LLaMA-Factory' }, mmftVersion: '0.1.0' });
 */
export function writeHandoffBundle(bundleDir: string, input: HandoffBundleInput, now: Date = new Date()): HandoffManifest {
  const { plan, launch, data, result, target } = input;
  const manifest: HandoffManifest = {
    format: 'mmft-handoff',
    formatVersion: HANDOFF_FORMAT_VERSION,
    mmftVersion: input.mmftVersion,
    createdAt: now.toISOString(),
    recipeFile: plan.recipeFile,
    target,
    output: result.output,
    model: { path: plan.model.path, localPath: plan.model.localPath, modelType: plan.model.modelType },
    launch,
    data,
    files: [...result.files, HANDOFF_MANIFEST, 'README.md'],
    commands: result.commands,
    mappings: result.mappings,
    gaps: [...plan.gaps, ...result.gaps],
    plan,
  };
  fs.writeFileSync(path.join(bundleDir, HANDOFF_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  fs.writeFileSync(path.join(bundleDir, 'README.md'), handoffReadme(input, manifest));
  return manifest;
}
