// train.yaml as flat `key: scalar  # comment` lines in titled sections, every scalar written so PyYAML
// reads back the same type (yaml/resolver.py, YAML 1.1).
import { MmftError } from '@mmft/core';

/** A YAML scalar PyYAML reads back as the same value: floats need a dot and a signed exponent (yaml/resolver.py float regex). */
export function yamlScalar(value: string | number | boolean): string {
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (!Number.isFinite(value)) throw new MmftError('E_CONFIG', `cannot write ${value} to train.yaml`);
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return String(value);
  const [mantissa, exponent] = value.toExponential().split('e') as [string, string];
  const plain = String(value);
  if (!plain.includes('e')) return plain;
  return `${mantissa.includes('.') ? mantissa : `${mantissa}.0`}e${exponent.startsWith('-') || exponent.startsWith('+') ? exponent : `+${exponent}`}`;
}

export type Entry = readonly [key: string, value: string | number | boolean, comment?: string];

export function yamlText(sections: readonly { title: string; entries: readonly Entry[] }[]): string {
  const lines: string[] = ['# Written by mmft handoff (README.md says what maps and what does not).'];
  for (const { title, entries } of sections) {
    if (entries.length === 0) continue;
    lines.push('', `### ${title}`);
    for (const [key, value, comment] of entries) lines.push(`${key}: ${yamlScalar(value)}${comment ? `  # ${comment}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
