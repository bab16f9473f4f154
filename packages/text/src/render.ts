// Renders prompt templates with `{name}` placeholders and refuses unknown ones, so a typo in a
// recipe's prompt fails at load time instead of training on "Question: {qestion}". Follows the
// shape of Python's str.format (the syntax of LAVIS/LLaVA prompt strings): `{{` and `}}` escape braces.
import { MmftError } from '@mmft/core';

const TOKEN = /\{\{|\}\}|\{([^{}]*)\}|[{}]/g;

/** The placeholder names of a template, in order of first use. */
export function templatePlaceholders(template: string): string[] {
  const names: string[] = [];
  for (const match of template.matchAll(TOKEN)) {
    const [whole, name] = match;
    if (whole === '{{' || whole === '}}') continue;
    if (name === undefined) {
      throw new MmftError(
        'E_CONFIG',
        `prompt template ${JSON.stringify(template)} has an unmatched "${whole}" at character ${match.index}`,
        {
          hint: 'write {{ or }} for a literal brace',
        },
      );
    }
    if (!names.includes(name)) names.push(name);
  }
  return names;
}

/**
 * Check that a template only uses `known` placeholders and uses every `required` one; `where`
 * names the recipe field for the message.
 *
 * @example
 * validateTemplate('Question: {question} Answer:', ['question'], 'prompts.vqa', ['question']); // ok
 */
export function validateTemplate(
  template: string,
  known: readonly string[],
  where = 'prompt template',
  required: readonly string[] = [],
): void {
  const used = templatePlaceholders(template);
  for (const name of required) {
    if (!used.includes(name)) {
      throw new MmftError(
        'E_CONFIG',
        `${where}: ${JSON.stringify(template)} does not use {${name}}, so the ${name} would never reach the model`,
        {
          hint: `add {${name}} where the ${name} belongs, e.g. "... {${name}} ..."`,
        },
      );
    }
  }
  for (const name of used) {
    if (!known.includes(name)) {
      const list = known.length > 0 ? known.map((k) => `{${k}}`).join(', ') : 'none';
      throw new MmftError(
        'E_CONFIG',
        `${where}: ${JSON.stringify(template)} uses the unknown placeholder {${name}}; known placeholders: ${list}`,
        {
          hint: known.length > 0 ? `rename {${name}} to one of ${list}` : 'this template takes no placeholders: remove it',
        },
      );
    }
  }
}

/**
 * Fill a template's `{name}` placeholders from `vars`. A placeholder without a value is an error
 * that lists the values given.
 *
 * @example
 * renderTemplate('Question: {question} Answer:', { question: 'what colour is the circle?' });
 * // → 'Question: what colour is the circle? Answer:'
 * renderTemplate('问题：{question} 答案：', { question: '圆形是什么颜色？' });
 */
export function renderTemplate(template: string, vars: Readonly<Record<string, string | number>>): string {
  templatePlaceholders(template); // reject stray braces before rendering
  return template.replace(TOKEN, (whole, name: string | undefined) => {
    if (whole === '{{') return '{';
    if (whole === '}}') return '}';
    const value = vars[name as string];
    if (value === undefined) {
      const given =
        Object.keys(vars)
          .map((k) => `{${k}}`)
          .join(', ') || 'none';
      throw new MmftError('E_CONFIG', `prompt template ${JSON.stringify(template)} needs a value for {${name}}; values given: ${given}`);
    }
    return String(value);
  });
}
