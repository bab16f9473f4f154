#!/usr/bin/env node
// Writes the tokenizers of the embedded shapes language models in Hugging Face layout
// (tokenizer.json, tokenizer_config.json, special_tokens_map.json), learned on the shapes world's
// text corpus (@mmft/data-shapes, task text: the train split of both domains, English and Chinese):
//   models/shapes-lm-tokenizer-llama/  LlamaTokenizerFast: BPE with byte fallback over "▁"-words, <unk> <s> </s>,
//                                      <pad> added after the vocabulary, the Llama-2 chat template
//   models/shapes-lm-tokenizer-opt/    OPT's byte-level BPE (GPT2Tokenizer layout, <s> <pad> </s> <unk> at 0-3)
// Pieces: every English word of the corpus (with the punctuation SentencePiece keeps on it, for
// Llama) and every Chinese character the corpus uses, one token each. Chinese is kept at one
// character per token on purpose: the corpus is so formulaic that BPE would otherwise merge whole
// Chinese questions into single tokens ("▁问题：图中有几个六边形？"), which a model cannot recombine.
// The merges come from @mmft/core/hf's BPE trainer (most frequent pair first, ties by text) run on
// the corpus with Chinese characters spelt apart; merges that join a Chinese character to
// anything are then dropped (for the byte-level tokenizer: merges beyond one character's UTF-8
// bytes). The output is byte-identical on every run.
// Usage (after building core and data-shapes): node scripts/build-shapes-lm-tokenizers.mjs [--check]
//   --check compares with the committed files instead of writing them (exit status 1 on a difference).
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');
const require = createRequire(path.join(root, 'package.json'));
const {
  llamaTokenizerFiles,
  byteLevelBpeTokenizerFiles,
  bytesToUnicode,
  LLAMA2_CHAT_TEMPLATE,
  tokenizerFromFiles,
} = require('@mmft/core/hf');
const { corpusUnits, shapesConfigSchema, unigramBaseline } = require('@mmft/data-shapes');

/** The longest text the models take (the corpus's longest dialogue is about 170 Llama tokens). */
const MODEL_MAX_LENGTH = 512;
/** Scenes per domain whose train-split texts the merges are learned on (about 10,800 texts per domain). */
const CORPUS_SCENES = 2000;
/** CJK characters and full-width punctuation (U+2E80 on); "▁" (U+2581) is below. */
const CJK = /[\u2e80-\uffff]/u;

const check = process.argv.includes('--check');

/**
 * Train-split texts of both domains and languages, Chinese characters spelt apart with `separator`:
 * a space for Llama (each becomes a "▁"-word), a newline for byte-level BPE (GPT-2's split regex
 * then makes each character a word of its own bytes, with no "Ġ" before it).
 */
function trainingCorpus(separator) {
  const texts = [];
  for (const domain of ['A', 'B']) {
    const config = shapesConfigSchema.parse({ task: 'text', n: CORPUS_SCENES, lang: 'both', split: 'train', domain, seed: 0 });
    for (const unit of corpusUnits(config)) texts.push(unit.lang === 'zh' ? [...unit.text.replace(/ /g, '')].join(separator) : unit.text);
  }
  return texts;
}

const decodeJson = (bytes) => JSON.parse(new TextDecoder().decode(bytes));
const encodeJson = (value) => new TextEncoder().encode(`${JSON.stringify(value, null, 2)}\n`);

/**
 * tokenizer.json with only the merges `keep` accepts, the vocabulary renumbered: the pieces before
 * the first merge result (special, byte and character pieces) keep their ids, kept merge results
 * follow in merge order. A kept merge's parts are shorter pieces that `keep` also accepts, so the
 * merge list stays closed.
 */
function filterMerges(files, keep) {
  const json = decodeJson(files.get('tokenizer.json'));
  const merges = json.model.merges.map((m) => m.split(' '));
  const results = new Set(merges.map(([a, b]) => a + b));
  const ordered = Object.entries(json.model.vocab).sort(([, a], [, b]) => a - b);
  const firstMerge = ordered.findIndex(([token]) => results.has(token));
  const vocab = new Map(ordered.slice(0, firstMerge < 0 ? ordered.length : firstMerge));
  const kept = [];
  for (const [a, b] of merges) {
    if (!keep(a + b)) continue;
    kept.push(`${a} ${b}`);
    if (!vocab.has(a + b)) vocab.set(a + b, vocab.size);
  }
  json.model.vocab = Object.fromEntries(vocab);
  json.model.merges = kept;
  return new Map([...files, ['tokenizer.json', encodeJson(json)]]);
}

/**
 * Adds "<pad>" after the vocabulary as `tokenizer.add_special_tokens({'pad_token': '<pad>'})` does
 * (transformers' tokenization_utils_base.py): an added special token with the next id, named in
 * tokenizer_config.json's added_tokens_decoder and pad_token and in special_tokens_map.json.
 */
function withPadToken(files) {
  const tokenizer = decodeJson(files.get('tokenizer.json'));
  const config = decodeJson(files.get('tokenizer_config.json'));
  const map = decodeJson(files.get('special_tokens_map.json'));
  const id = Object.keys(tokenizer.model.vocab).length;
  const entry = { content: '<pad>', lstrip: false, normalized: false, rstrip: false, single_word: false };
  tokenizer.added_tokens.push({ id, content: '<pad>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  config.added_tokens_decoder[String(id)] = { ...entry, special: true };
  config.pad_token = '<pad>';
  map.pad_token = entry;
  // save_pretrained writes special_tokens_map.json's keys in this order (bos, eos, pad, unk)
  const sortedMap = Object.fromEntries(Object.entries(map).sort(([a], [b]) => a.localeCompare(b)));
  return new Map([
    ['tokenizer.json', encodeJson(tokenizer)],
    ['tokenizer_config.json', encodeJson(config)],
    ['special_tokens_map.json', encodeJson(sortedMap)],
  ]);
}

/** The Llama tokenizer: English merges only, each Chinese character a base piece, then <pad>. */
function llamaFiles(texts) {
  const files = llamaTokenizerFiles({ corpus: texts, chatTemplate: LLAMA2_CHAT_TEMPLATE, modelMaxLength: MODEL_MAX_LENGTH });
  return withPadToken(filterMerges(files, (piece) => !CJK.test(piece)));
}

/** True when byte-level `piece` is ASCII, or part of one multi-byte character (at most a whole one). */
function withinOneCharacter(piece, byteOf) {
  const bytes = [...piece].map((c) => byteOf.get(c));
  if (bytes.every((b) => b < 0x80)) return true;
  if (bytes.some((b, i) => b < 0x80 || (i > 0 && b >= 0xc0))) return false;
  const lead = bytes[0];
  const length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 4;
  return bytes.length <= length;
}

/** The OPT tokenizer: <s> <pad> </s> <unk>, the 256 byte characters, English merges and whole Chinese characters. */
function optFiles(texts) {
  const byteOf = new Map(bytesToUnicode().map((c, b) => [c, b]));
  const files = byteLevelBpeTokenizerFiles({ flavour: 'opt', corpus: texts, modelMaxLength: MODEL_MAX_LENGTH });
  return filterMerges(files, (piece) => withinOneCharacter(piece, byteOf));
}

/** The pretraining recipes' data (recipes/{llama,opt}-shapes-pretrain.yaml: data.train and data.eval). */
const recipeCorpus = (split, n) => corpusUnits(shapesConfigSchema.parse({ task: 'text', n, lang: 'both', split, seed: 0 }));

/**
 * Tokens per held-out text and byte-fallback pieces per language, and the unigram baseline a model
 * must beat: the cross-entropy of the recipes' eval split under the train split's add-one smoothed
 * token frequencies, over the tokens the causal-LM objective predicts (each text's tokens and eos;
 * not the bos it is conditioned on), so it compares with the perplexity `mmft train` prints.
 */
function summary(files) {
  const tokenizer = tokenizerFromFiles(files);
  const evalUnits = recipeCorpus('eval', 1000);
  const byteIds = new Set();
  for (let b = 0; b < 256; b++) byteIds.add(tokenizer.tokenToId(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
  const lines = ['en', 'zh'].map((lang) => {
    const texts = evalUnits.filter((u) => u.lang === lang).map((u) => u.text);
    const ids = tokenizer.encode(texts, { addSpecialTokens: false, truncation: false }).inputIds;
    const tokens = ids.reduce((n, row) => n + row.length, 0);
    const bytes = ids.flat().filter((id) => byteIds.has(id)).length;
    return `${lang} ${(tokens / texts.length).toFixed(1)} tokens/text, ${bytes} byte-fallback pieces`;
  });
  const eos = tokenizer.specialTokenIds.eos;
  const predicted = (text) => [...tokenizer.encode([text], { addSpecialTokens: false, truncation: false }).inputIds[0], eos].map(String);
  const baseline = unigramBaseline(
    recipeCorpus('train', 20000).map((u) => u.text),
    evalUnits.map((u) => u.text),
    predicted,
  );
  lines.push(
    `unigram baseline of the eval split (${evalUnits.length} texts, ${baseline.evalTokens} tokens): perplexity ${baseline.perplexity.toFixed(2)}`,
  );
  return lines.join('; ');
}

const outputs = [
  ['models/shapes-lm-tokenizer-llama', llamaFiles(trainingCorpus(' '))],
  ['models/shapes-lm-tokenizer-opt', optFiles(trainingCorpus('\n'))],
];
let differs = false;
for (const [dir, files] of outputs) {
  const at = path.join(root, dir);
  if (!check) fs.mkdirSync(at, { recursive: true });
  for (const [name, bytes] of files) {
    const file = path.join(at, name);
    if (!check) fs.writeFileSync(file, bytes);
    else if (!fs.existsSync(file) || Buffer.compare(fs.readFileSync(file), Buffer.from(bytes)) !== 0) {
      process.stderr.write(`${dir}/${name} differs from what this script writes; run it without --check\n`);
      differs = true;
    }
  }
  const size = tokenizerFromFiles(files).vocabSize;
  process.stdout.write(`${check ? 'checked' : 'wrote'} ${dir}: ${size} ids; held-out ${summary(files)}\n`);
}
if (differs) process.exitCode = 1;
