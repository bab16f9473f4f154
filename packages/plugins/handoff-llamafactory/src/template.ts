// LLaMA-Factory's chat template for mmft's objective.template (hiyouga/LLaMA-Factory@ff6d4d1:src/llamafactory/data/template.py,
// model/model_utils/visual.py for the composite models).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { HandoffPlan } from '@mmft/core';

/** Model types LLaMA-Factory treats as composite (vision tower + projector + language model; model_utils/visual.py). */
export const COMPOSITE = new Set(['llava']);

/** The tokenizer's chat_template of a model folder (tokenizer_config.json or chat_template.jinja), if any. */
function chatTemplateOf(dir: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, 'chat_template.jinja'), 'utf8');
  } catch {
    try {
      const config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8')) as { chat_template?: unknown };
      return typeof config.chat_template === 'string' ? config.chat_template : undefined;
    } catch {
      return undefined;
    }
  }
}

/** LLaMA-Factory templates told apart by the markers their formats write (data/template.py llama2, llama3, chatml). */
const CHAT_MARKERS: readonly { readonly marker: string; readonly name: string }[] = [
  { marker: '<|start_header_id|>', name: 'llama3' },
  { marker: '[INST]', name: 'llama2' },
  { marker: '<|im_start|>', name: 'chatml' },
];

/**
 * LLaMA-Factory's template for mmft's (data/template.py). A LLaVA model needs a template whose mm_plugin
 * is "llava" (it expands `<image>` into the image tokens): `llava`, LLaVA-1.5's USER/ASSISTANT format.
 */
export function llamaFactoryTemplate(plan: Pick<HandoffPlan, 'template' | 'model'>): { name?: string; note?: string } {
  const composite = COMPOSITE.has(plan.model.modelType);
  switch (plan.template) {
    case 'llava_v1':
    case 'vicuna_v1':
      return composite
        ? { name: 'llava', note: 'LLaMA-Factory\'s "llava" template: USER: … ASSISTANT: … with eos, the llava image plugin' }
        : { name: 'vicuna', note: 'LLaMA-Factory\'s "vicuna" template: USER: … ASSISTANT: … with eos' };
    case 'chatml':
      return composite ? {} : { name: 'chatml' };
    case 'chat': {
      // template chat renders through the tokenizer's chat_template: pick LLaMA-Factory's template that writes the same markers.
      const jinja = composite ? undefined : chatTemplateOf(plan.model.localPath);
      const found = jinja === undefined ? undefined : CHAT_MARKERS.find((m) => jinja.includes(m.marker));
      return found
        ? { name: found.name, note: `the tokenizer's chat_template writes ${found.marker}: LLaMA-Factory's "${found.name}" template` }
        : {};
    }
    default:
      return {};
  }
}
