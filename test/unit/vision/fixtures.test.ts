/** The photo fixtures stay usable for few-shot tests: enough classes, disjoint splits, files that decode. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readImage } from '../../../src/cli/imageio';

interface Entry {
  path: string;
  class: string;
  split: 'train' | 'test';
}

const PHOTOS = fileURLToPath(new URL('../../fixtures/photos/', import.meta.url));
const index = JSON.parse(readFileSync(join(PHOTOS, 'index.json'), 'utf8')) as Entry[];
const classes = [...new Set(index.map((e) => e.class))];

describe('photo fixtures index.json', () => {
  it('has at least 3 classes of at least 7 photos, each with 2+ test photos', () => {
    expect(classes.length).toBeGreaterThanOrEqual(3);
    for (const c of classes) {
      const members = index.filter((e) => e.class === c);
      expect(members.length, c).toBeGreaterThanOrEqual(7);
      expect(members.filter((e) => e.split === 'test').length, c).toBeGreaterThanOrEqual(2);
      expect(members.filter((e) => e.split === 'train').length, c).toBeGreaterThanOrEqual(2);
    }
  });

  it('lists each file once, inside its class folder, with a valid split', () => {
    expect(new Set(index.map((e) => e.path)).size).toBe(index.length);
    for (const e of index) {
      expect(e.path.startsWith(`${e.class}/`), e.path).toBe(true);
      expect(['train', 'test']).toContain(e.split);
      expect(existsSync(join(PHOTOS, e.path)), e.path).toBe(true);
    }
  });

  it('holds decodable images no larger than 320 px on a side', async () => {
    for (const e of index) {
      const img = await readImage(join(PHOTOS, e.path));
      expect(Math.max(img.width, img.height), e.path).toBeLessThanOrEqual(320);
    }
  });
});
