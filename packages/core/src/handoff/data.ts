// The recipe's data as chat rows another engine reads: `data/train.jsonl` and `data/eval.jsonl` of
// `{"messages":[{role,content}],"images":[...]}` with every image copied once into `data/images/`,
// named by its content hash. Image paths are relative to `data/`: LLaMA-Factory joins them to
// media_dir, which defaults to dataset_dir (hiyouga/LLaMA-Factory@ff6d4d1:src/llamafactory/data/converter.py
// _find_medias, hparams/data_args.py), and the bundle's dataset_dir is `data`.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Example, ImageRef } from '../contracts/dataset';
import type { HandoffData } from '../contracts/handoff';
import type { HandoffConversation } from '../contracts/objective';
import { MmftError } from '../errors';

/** Options of `writeHandoffData`. */
export interface HandoffDataOptions {
  /**
   * Rasterises an in-memory image PIL cannot read (SVG) to PNG bytes. Without it an SVG image is an
   * error; PNG, JPEG and WebP are written as they are.
   */
  readonly toPng?: (image: ImageRef) => Promise<Uint8Array>;
}

/** The examples of each split, in the order the rows are written. */
export interface HandoffSplits {
  readonly train: AsyncIterable<Example>;
  readonly eval?: AsyncIterable<Example>;
}

const EXTENSIONS: Readonly<Record<string, string>> = {
  '.png': 'png',
  '.jpg': 'jpg',
  '.jpeg': 'jpg',
  '.webp': 'webp',
  '.bmp': 'bmp',
  '.gif': 'gif',
};

/** Copies images into `imagesDir` once per content, and remembers each source's name. */
class ImageStore {
  private readonly bySource = new Map<string, string>();
  private readonly written = new Set<string>();

  constructor(
    private readonly imagesDir: string,
    private readonly options: HandoffDataOptions,
  ) {}

  private put(bytes: Uint8Array, ext: string): string {
    const name = `${createHash('sha256').update(bytes).digest('hex').slice(0, 20)}.${ext}`;
    if (!this.written.has(name)) {
      fs.writeFileSync(path.join(this.imagesDir, name), bytes);
      this.written.add(name);
    }
    return name;
  }

  /** The data/-relative path of the image's copy. */
  async pathOf(image: ImageRef, where: string): Promise<string> {
    const source = image.kind === 'file' ? `file:${image.path}` : `bytes:${image.key}`;
    let name = this.bySource.get(source);
    if (name === undefined) {
      if (image.kind === 'file') {
        const ext = EXTENSIONS[path.extname(image.path).toLowerCase()];
        let bytes: Uint8Array;
        try {
          bytes = fs.readFileSync(image.path);
        } catch (cause) {
          throw new MmftError('E_INPUT', `${where}: image ${image.path} cannot be read`, {
            cause,
            hint: 'check the path in the data file',
          });
        }
        if (ext) name = this.put(bytes, ext);
        else if (this.options.toPng) name = this.put(await this.options.toPng(image), 'png');
        else
          throw new MmftError('E_UNSUPPORTED', `${where}: image ${image.path} is not PNG, JPEG, WebP, BMP or GIF`, {
            hint: 'convert it to PNG',
          });
      } else if (image.format === 'svg') {
        if (!this.options.toPng) {
          throw new MmftError(
            'E_UNSUPPORTED',
            `${where}: image "${image.key}" is SVG, which the engines' image loaders (PIL) cannot read`,
            {
              hint: 'pass toPng to rasterise it (mmft handoff does)',
            },
          );
        }
        name = this.put(await this.options.toPng(image), 'png');
      } else name = this.put(image.bytes, image.format === 'jpeg' ? 'jpg' : image.format);
      this.bySource.set(source, name);
    }
    return `images/${name}`;
  }

  get count(): number {
    return this.written.size;
  }
}

const whereOf = (example: Example): string =>
  example.source ? `${example.source.file}:${example.source.line} (example "${example.id}")` : `example "${example.id}"`;

async function writeSplit(
  examples: AsyncIterable<Example>,
  toChats: (example: Example) => readonly HandoffConversation[],
  file: string,
  store: ImageStore,
): Promise<number> {
  const fd = fs.openSync(file, 'w');
  let rows = 0;
  try {
    for await (const example of examples) {
      for (const chat of toChats(example)) {
        const images: string[] = [];
        for (const image of chat.images) images.push(await store.pathOf(image, whereOf(example)));
        const row = { messages: chat.messages.map((m) => ({ role: m.role, content: m.content })), images };
        fs.writeSync(fd, `${JSON.stringify(row)}\n`);
        rows += 1;
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return rows;
}

/**
 * Writes the splits as chat rows under `bundleDir/data/` and returns what was written (bundle-relative).
 * Inputs are only read; each distinct image is written once.
 *
 * @example
 * const data = await writeHandoffData({ train: dataset.iterate({ shuffle: false }) }, (e) => provider.conversations!(config, e), out);
 * // data.train === 'data/train.jsonl'; a row: {"messages":[{"role":"user","content":"<image>\nWhat colour?"},...],"images":["images/ab12….png"]}
 */
export async function writeHandoffData(
  splits: HandoffSplits,
  toChats: (example: Example) => readonly HandoffConversation[],
  bundleDir: string,
  options: HandoffDataOptions = {},
): Promise<HandoffData & { readonly imageCount: number }> {
  const dataDir = path.join(bundleDir, 'data');
  const imagesDir = path.join(dataDir, 'images');
  fs.mkdirSync(imagesDir, { recursive: true });
  const store = new ImageStore(imagesDir, options);
  const trainRows = await writeSplit(splits.train, toChats, path.join(dataDir, 'train.jsonl'), store);
  if (trainRows === 0)
    throw new MmftError('E_DATA', 'data.train gave no rows to hand off', { hint: 'check the data.train section of the recipe' });
  const evalRows = splits.eval ? await writeSplit(splits.eval, toChats, path.join(dataDir, 'eval.jsonl'), store) : 0;
  return {
    train: 'data/train.jsonl',
    ...(splits.eval ? { eval: 'data/eval.jsonl' } : {}),
    trainRows,
    evalRows,
    imagesDir: 'data/images',
    imageCount: store.count,
  };
}
