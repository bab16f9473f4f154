// The objective provider "causal-lm" (`objective: { type: causal-lm }`): next-token loss on the
// targets of caption, VQA, instruction and plain-text examples; evaluation by generate().
import { parseConfig, type ObjectiveProvider } from '@mmft/core';
import { causalLmConfigSchema, type CausalLmConfig } from './config';
import { handoffConversations } from './handoff';
import { createCausalLm } from './objective';

export const causalLmProvider: ObjectiveProvider<CausalLmConfig> = {
  kind: 'objective',
  id: 'causal-lm',
  description:
    "next-token loss on targets (captions, answers, assistant turns, plain text) through the model's tokenizer and chat template; labels -100 on prompts and padding; evaluation by generate() into caption and VQA metrics",
  configSchema: causalLmConfigSchema,
  create: (config, context) => createCausalLm(parseConfig(causalLmProvider, config, 'objective (causal-lm)'), context),
  conversations: (config, example) => handoffConversations(parseConfig(causalLmProvider, config, 'objective (causal-lm)'), example),
};
