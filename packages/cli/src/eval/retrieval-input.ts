// Input of `mmft eval retrieval`: {"similarity": [[row per image, column per text]],
// "text_to_image": [image index of each text]}; every bad cell is reported by position.
import { MmftError } from '@mmft/core';
import { Problems, throwIfAnyProblems } from './problems';
import { readText } from './read-records';

export interface SimilarityInput {
  readonly matrix: number[][];
  readonly textToImage: number[];
}

/**
 * Read and check a similarity file.
 *
 * @example
 * loadSimilarity('S.json', process.cwd()).matrix.length; // number of images
 */
export function loadSimilarity(file: string, cwd: string): SimilarityInput {
  const { text } = readText(file, cwd);
  let doc: { similarity?: unknown; text_to_image?: unknown };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (cause) {
    throw new MmftError('E_INPUT', `${file}: not JSON (${(cause as Error).message})`, { cause });
  }
  const { similarity, text_to_image: textToImage } = doc ?? {};
  if (!Array.isArray(similarity) || !Array.isArray(textToImage)) {
    throw new MmftError(
      'E_INPUT',
      `${file}: needs "similarity" (a list of rows, one per image) and "text_to_image" (a list of image indices)`,
    );
  }
  const nTexts = textToImage.length;
  const cells = new Problems(`bad similarity cells in ${file}`, 'every row needs one finite number per text');
  const links = new Problems(`bad text_to_image entries in ${file}`, `each entry is an image index 0..${similarity.length - 1}`);
  similarity.forEach((row: unknown, i) => {
    if (!Array.isArray(row) || row.length !== nTexts)
      cells.add(`similarity[${i}] (${Array.isArray(row) ? row.length : 'no'} columns, expected ${nTexts})`);
    else row.forEach((v: unknown, t) => (typeof v === 'number' && Number.isFinite(v) ? undefined : cells.add(`similarity[${i}][${t}]`)));
  });
  textToImage.forEach((v: unknown, t) => {
    if (!Number.isInteger(v) || (v as number) < 0 || (v as number) >= similarity.length)
      links.add(`text_to_image[${t}] = ${JSON.stringify(v)}`);
  });
  throwIfAnyProblems([cells, links]);
  return { matrix: similarity as number[][], textToImage: textToImage as number[] };
}
