// The chats an example trains as, for another engine (`mmft handoff`): the turns chat mode renders
// (conversationOf with kept `<image>` marks), a system turn when the template has a system prompt,
// and one `<image>` mark per image, as LLaMA-Factory's sharegpt rows (data/mllm_demo.json in
// hiyouga/LLaMA-Factory) and ms-swift's `messages` + `images` rows are written.
import { imagesOf, MmftError, type ConversationTurn, type Example, type HandoffConversation } from '@mmft/core';
import type { CausalLmConfig } from './config';
import { conversationOf, exampleWhere, imageMarkCount, withImageMark, type ChatMessage } from './pieces';
import { DEFAULT_SYSTEMS, isNamedTemplate } from './templates';

/** The system prompt the objective renders for `example` ('' for none). */
function systemOf(config: CausalLmConfig, example: Example): string {
  if (!isNamedTemplate(config.template)) return config.default_system ?? '';
  const lang = config.system_lang ?? config.prompts?.lang ?? (example.lang === 'zh' ? 'zh' : 'en');
  return config.default_system ?? DEFAULT_SYSTEMS[config.template][lang === 'zh' ? 'zh' : 'en'];
}

function chatOf(config: CausalLmConfig, example: Example, messages: readonly ChatMessage[]): HandoffConversation {
  const images = imagesOf(example);
  const marked = images.length > 0 ? withImageMark(messages) : [...messages];
  const count = imageMarkCount(marked);
  if (count !== images.length) {
    throw new MmftError('E_DATA', `${exampleWhere(example)} has ${count} <image> marks and ${images.length} images`, {
      hint: 'write one <image> mark per image, in the order of the images list (or none for one image: it then leads the first user turn)',
    });
  }
  const system = systemOf(config, example);
  const withSystem = system !== '' && marked[0]?.role !== 'system' ? [{ role: 'system', content: system }, ...marked] : marked;
  return { messages: withSystem.map((m) => ({ role: m.role as ConversationTurn['role'], content: m.content })), images };
}

/**
 * The conversations `example` trains as under `config`: one per caption of a caption example (the
 * objective picks one caption per epoch; an engine trains on each), one otherwise.
 *
 * @example
 * handoffConversations(config, { task: 'vqa', id: 'q1', image, question: 'What colour?', answer: 'red' });
 * // [{ messages: [{ role: 'user', content: '<image>\nWhat colour?' }, { role: 'assistant', content: 'red' }], images: [image] }]
 */
export function handoffConversations(config: CausalLmConfig, example: Example): HandoffConversation[] {
  if (example.task === 'retrieval' || example.task === 'text' || example.task === 'interleaved') {
    throw new MmftError(
      'E_DATA',
      `${exampleWhere(example)} is a ${example.task} example; a handoff writes chats (user and assistant turns)`,
      {
        hint:
          example.task === 'retrieval'
            ? 'retrieval data trains objective contrastive, which engines for chat fine-tuning do not take'
            : 'hand off caption, VQA or instruction data; plain-text and interleaved pretraining stay with mmft train',
      },
    );
  }
  if (example.task === 'caption') {
    return example.captions.map((_, k) =>
      chatOf(
        config,
        example,
        conversationOf(example, config.prompts, () => k, 'keep', true),
      ),
    );
  }
  return [
    chatOf(
      config,
      example,
      conversationOf(example, config.prompts, () => 0, 'keep', true),
    ),
  ];
}
