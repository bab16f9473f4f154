import { describe, expect, test } from '@jest/globals';
import { MmftError } from '../errors';
import { byteLevelBpeTokenizerFiles, llamaTokenizerFiles } from './tiny-tokenizers';
import { chatTemplatesOf, renderChatTemplate, selectChatTemplate } from './chat-template';
import { tokenizerFromFiles } from './tokenizer-files';

const llama = tokenizerFromFiles(llamaTokenizerFiles(), { dir: 'models/tiny-llama' })!;

const conversation = [
  { role: 'system', content: 'Answer briefly.' },
  { role: 'user', content: 'What color is the circle?' },
  { role: 'assistant', content: 'red' },
  { role: 'user', content: '  How many squares?  ' },
  { role: 'assistant', content: 'two' },
  { role: 'user', content: 'Describe the image.' },
];

/** Thrown error of `fn`, for checks on its code and message. */
function thrown(fn: () => unknown): MmftError {
  try {
    fn();
  } catch (error) {
    return error as MmftError;
  }
  throw new Error('expected an error');
}

describe('Llama-2 chat template', () => {
  test('a 3-turn conversation with a system prompt renders as the template rules write it by hand', () => {
    // Rules: the system text goes into the first user turn inside <<SYS>>\n…\n<</SYS>>\n\n; each user turn is
    // bos + "[INST] " + content.strip() + " [/INST]"; each assistant turn " " + content.strip() + " " + eos.
    const expected =
      '<s>[INST] <<SYS>>\nAnswer briefly.\n<</SYS>>\n\nWhat color is the circle? [/INST] red </s>' +
      '<s>[INST] How many squares? [/INST] two </s>' +
      '<s>[INST] Describe the image. [/INST]';
    expect(llama.applyChatTemplate(conversation)).toBe(expected);
    // Llama-2's template writes no generation prompt: the same text either way.
    expect(llama.applyChatTemplate(conversation, { addGenerationPrompt: true })).toBe(expected);
    expect(llama.applyChatTemplate([{ role: 'user', content: 'yes' }])).toBe('<s>[INST] yes [/INST]');
  });

  test('tokenize: true encodes the text without adding another <s>', () => {
    const text = llama.applyChatTemplate(conversation);
    const ids = llama.applyChatTemplate(conversation, { tokenize: true });
    expect(ids).toEqual(llama.encode([text], { addSpecialTokens: false }).inputIds[0]);
    expect(ids.slice(0, 2)).not.toEqual([1, 1]);
    expect(ids.filter((i) => i === 1)).toHaveLength(3); // one <s> per user turn, read as the special token
    expect(ids.filter((i) => i === 2)).toHaveLength(2);
    expect(llama.decode(ids)).toContain('[/INST] red </s><s>');
  });

  test("raise_exception (roles that do not alternate) is an MmftError naming the folder's tokenizer_config.json", () => {
    const error = thrown(() =>
      llama.applyChatTemplate([
        { role: 'user', content: 'a' },
        { role: 'user', content: 'b' },
      ]),
    );
    expect(error).toBeInstanceOf(MmftError);
    expect(error.code).toBe('E_INPUT');
    expect(error.message).toContain('models/tiny-llama/tokenizer_config.json');
    expect(error.message).toContain('Conversation roles must alternate user/assistant/user/assistant/...');
  });
});

describe('renderChatTemplate', () => {
  const chatml =
    "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
  const turns = [
    { role: 'user', content: 'hi' },
    { role: 'assistant', content: 'hello' },
  ];

  test('add_generation_prompt appends the assistant header', () => {
    const body = '<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\nhello<|im_end|>\n';
    expect(renderChatTemplate(chatml, turns, {})).toBe(body);
    expect(renderChatTemplate(chatml, turns, {}, { addGenerationPrompt: true })).toBe(`${body}<|im_start|>assistant\n`);
  });

  test('special tokens, tools and extra kwargs are template variables', () => {
    const template = '{{ bos_token }}|{{ pad_token }}|{{ tools | length }}|{{ tools[0].name }}|{{ date_string }}';
    expect(
      renderChatTemplate(
        template,
        [],
        { bos_token: '<s>', pad_token: '<pad>' },
        { tools: [{ name: 'count' }], templateKwargs: { date_string: '7 Dec' } },
      ),
    ).toBe('<s>|<pad>|1|count|7 Dec');
  });

  test('blocks are trimmed as transformers renders them (trim_blocks, lstrip_blocks)', () => {
    const template =
      '{% for m in messages %}\n  {% if m.role == "user" %}\n  Q: {{ m.content }}\n  {% else %}\n  A: {{ m.content }}\n  {% endif %}\n{% endfor %}\n';
    expect(renderChatTemplate(template, turns, {})).toBe('  Q: hi\n  A: hello\n');
  });

  test('content given as parts (text and image) reaches the template as a list', () => {
    const template =
      "{% for m in messages %}{% for part in m.content %}{% if part.type == 'image' %}<image>\n{% else %}{{ part.text }}{% endif %}{% endfor %}{% endfor %}";
    const message = { role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What is this?' }] };
    expect(renderChatTemplate(template, [message], {})).toBe('<image>\nWhat is this?');
  });

  test('a template that does not parse is an E_CHECKPOINT error naming the file', () => {
    const error = thrown(() => renderChatTemplate('{% for m in messages %}{{ m.content }}', turns, {}, {}, 'x/tokenizer_config.json'));
    expect(error.code).toBe('E_CHECKPOINT');
    expect(error.message).toMatch(/^x\/tokenizer_config\.json: chat_template is not a template/);
  });
});

describe('template choice (get_chat_template)', () => {
  const named = chatTemplatesOf([
    { name: 'default', template: 'D' },
    { name: 'tool_use', template: 'T' },
  ]);

  test('a string is the default template; a list keeps its names', () => {
    expect(chatTemplatesOf('S')).toEqual({ default: 'S' });
    expect(named).toEqual({ default: 'D', tool_use: 'T' });
    expect(chatTemplatesOf(undefined)).toEqual({});
  });

  test('tools pick "tool_use", a name picks that template, other text is a template itself', () => {
    expect(selectChatTemplate(named, {}, 's')).toBe('D');
    expect(selectChatTemplate(named, { tools: [{}] }, 's')).toBe('T');
    expect(selectChatTemplate(named, { chatTemplate: 'tool_use' }, 's')).toBe('T');
    expect(selectChatTemplate(named, { chatTemplate: '{{ 1 }}' }, 's')).toBe('{{ 1 }}');
    expect(thrown(() => selectChatTemplate({ a: 'A', b: 'B' }, {}, 's')).message).toContain('none is "default"');
  });

  test('a tokenizer without a template (OPT) refuses applyChatTemplate', () => {
    const opt = tokenizerFromFiles(byteLevelBpeTokenizerFiles({ flavour: 'opt' }), { dir: 'models/opt' })!;
    expect(opt.chatTemplate).toBeUndefined();
    const error = thrown(() => opt.applyChatTemplate([{ role: 'user', content: 'hi' }]));
    expect(error.code).toBe('E_CHECKPOINT');
    expect(error.message).toBe('models/opt/tokenizer_config.json: this tokenizer has no chat_template');
    // A template passed in works on any tokenizer, with its special tokens in the context.
    expect(
      opt.applyChatTemplate([{ role: 'user', content: 'hi' }], { chatTemplate: '{{ bos_token }}{{ messages[0].content }}{{ eos_token }}' }),
    ).toBe('</s>hi</s>');
  });
});
