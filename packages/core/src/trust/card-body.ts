// The markdown body of a model card (./card.ts): section order after huggingface_hub
// src/huggingface_hub/templates/modelcard_template.md, the data and metrics tables, and the user's
// "Intended uses & limitations" text carried from one rendering to the next.
import * as path from 'node:path';
import { stringify } from 'yaml';
import { cardMetadata, type ModelCardInput } from './card-metadata';
import type { ProvenanceInput } from './provenance';

export const INTENDED_USES_HEADING = '## Intended uses & limitations';
export const INTENDED_USES_TODO =
  '> **TODO (model author):** say what this model is for, what it must not be used for, the languages and image domains it was trained on, and the known failure modes and biases. `mmft card` keeps whatever you write in this section.';

const fmt = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : Number.isInteger(v) ? String(v) : v.toPrecision(5));
const cell = (s: unknown) =>
  String(s ?? '–')
    .replace(/\|/g, '\\|')
    .replace(/\n/g, ' ');
const table = (head: string[], rows: unknown[][]) =>
  [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');

function dataSection(data: readonly ProvenanceInput[]): string {
  const files = data.filter((d) => d.generator === undefined);
  const generated = data.filter((d) => d.generator !== undefined);
  const parts: string[] = [];
  if (files.length > 0) {
    parts.push(
      table(
        ['role', 'file', 'sha256', 'records', 'images', 'licence'],
        files.map((d) => [
          d.role,
          `\`${path.basename(d.path ?? '')}\``,
          d.sha256 ? `\`${d.sha256}\`` : '–',
          d.records ?? '–',
          d.images
            ? `${d.images.count} (\`${d.images.sha256.slice(0, 16)}…\`)`
            : d.listing
              ? `${d.listing.count} files, ${d.listing.bytes} bytes (listing \`${d.listing.sha256.slice(0, 16)}…\`)`
              : '–',
          d.license ?? 'not recorded',
        ]),
      ),
    );
  }
  if (generated.length > 0) {
    parts.push(
      table(
        ['role', 'generator', 'seed', 'n', 'settings'],
        generated.map((d) => {
          const { seed, n, ...rest } = d.settings ?? {};
          return [d.role, d.generator, seed ?? '–', n ?? '–', `\`${JSON.stringify(rest)}\``];
        }),
      ),
    );
  }
  return parts.length > 0 ? parts.join('\n\n') : 'No data was recorded for this folder.';
}

function metricsSection(before: Readonly<Record<string, number>> = {}, after: Readonly<Record<string, number>> = {}): string {
  const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])];
  if (keys.length === 0) return 'No evaluation was run (add data.eval and metrics: to the recipe).';
  return table(
    ['metric', 'before', 'after', 'change'],
    keys.map((k) => [
      k,
      fmt(before[k]),
      fmt(after[k]),
      before[k] !== undefined && after[k] !== undefined ? fmt(after[k]! - before[k]!) : '–',
    ]),
  );
}

/**
 * The card as text: `---`, YAML metadata, `---`, markdown body.
 *
 * @example
 * await fs.writeFile('README.md', renderModelCard(cardInputFromProvenance(provenance, { folder: 'adapter' })));
 */
export function renderModelCard(input: ModelCardInput): string {
  const lines: string[] = ['---', stringify(cardMetadata(input), { lineWidth: 0 }).trimEnd(), '---', '', `# ${input.modelName}`, ''];
  if (input.summary) lines.push(input.summary, '');
  lines.push('## Model details', '');
  if (input.baseModel) lines.push(`- **Finetuned from:** \`${input.baseModel}\``);
  lines.push(`- **Library:** mmft`);
  lines.push(`- **License:** ${input.license ?? 'not stated'}`);
  if (input.licenseNote) lines.push(`  - ${input.licenseNote}`);
  if (input.lineage && input.lineage.length > 0) lines.push(`- **Lineage (newest first):** ${input.lineage.join(' ← ')}`);
  lines.push('', INTENDED_USES_HEADING, '', (input.intendedUses ?? '').trim() || INTENDED_USES_TODO, '');
  lines.push('## Training data', '', dataSection(input.data ?? []), '');
  if (input.warnings && input.warnings.length > 0) lines.push(...input.warnings.map((w) => `> **Warning:** ${w}`), '');
  lines.push('## Training procedure', '');
  if (input.training) {
    const t = input.training;
    lines.push(
      `- **Steps:** ${t.steps}${t.totalSteps !== undefined ? ` of ${t.totalSteps}` : ''}`,
      `- **Samples seen:** ${t.samples}`,
      `- **Training time:** ${t.seconds.toFixed(1)} s (optimizer steps only)`,
    );
  }
  for (const s of input.steps ?? []) if (s.kind !== 'train') lines.push(`- **${s.kind}:** \`${JSON.stringify(s)}\``);
  if (input.recipe !== undefined)
    lines.push('', '### Recipe (resolved)', '', '```yaml', stringify(input.recipe, { lineWidth: 0 }).trimEnd(), '```');
  lines.push('', '## Evaluation', '', metricsSection(input.metrics?.before, input.metrics?.after), '');
  lines.push('## Environment', '');
  for (const [k, v] of Object.entries(input.environment ?? {}))
    lines.push(`- **${k}:** ${Array.isArray(v) ? v.join(', ') || 'none' : String(v)}`);
  lines.push(
    '',
    '## Provenance',
    '',
    '`provenance.json` beside this file records every input with its sha256, the base model chain and the environment. Regenerate this card with `mmft card <this folder>`.',
    '',
  );
  return lines.join('\n');
}

/** The user's text of "Intended uses & limitations" (up to the next `## ` heading), unless it is still the TODO. */
export function intendedUsesOf(body: string): string | undefined {
  const start = body.indexOf(`${INTENDED_USES_HEADING}\n`);
  if (start === -1) return undefined;
  const rest = body.slice(start + INTENDED_USES_HEADING.length + 1);
  const end = rest.search(/^## /m);
  const text = (end === -1 ? rest : rest.slice(0, end)).trim();
  return text === '' || text === INTENDED_USES_TODO ? undefined : text;
}
