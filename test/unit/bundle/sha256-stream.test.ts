/** The incremental SHA-256 against node:crypto, over random data cut at random points and resumed from a cloned mid-state. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Sha256 } from '../../../src/core/bundle/sha256-stream';
import { mulberry32 } from '../../helpers/ort';

const nodeHex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function randomBytes(n: number, seed: number): Uint8Array {
  const rng = mulberry32(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rng() * 256);
  return out;
}

describe('Sha256', () => {
  it('matches node:crypto at every length around the padding boundaries', () => {
    const data = randomBytes(200, 1);
    for (let n = 0; n <= 200; n++)
      expect(new Sha256().update(data.subarray(0, n)).hex(), `${n} bytes`).toBe(nodeHex(data.subarray(0, n)));
  });

  it('gives the same digest for any split of the input, through a structured-cloned mid-state', () => {
    const rng = mulberry32(7);
    for (let trial = 0; trial < 20; trial++) {
      const data = randomBytes(1 + Math.floor(rng() * 5000), 100 + trial);
      let h = new Sha256();
      let at = 0;
      while (at < data.length) {
        const n = rng() < 0.3 ? 1 : Math.floor(rng() * 300);
        h.update(data.subarray(at, at + n));
        at += n;
        if (rng() < 0.5) h = Sha256.restore(structuredClone(h.state()));
      }
      expect(h.bytes).toBe(data.length);
      expect(h.hex()).toBe(nodeHex(data));
    }
  });

  it('hex() leaves the hash usable for more data', () => {
    const data = randomBytes(300, 3);
    const h = new Sha256().update(data.subarray(0, 100));
    h.hex();
    expect(h.update(data.subarray(100)).hex()).toBe(nodeHex(data));
  });

  it('refuses a state that is not one', () => {
    expect(() => Sha256.restore({ h: [1, 2], pending: new Uint8Array(0), length: 0 })).toThrow(RangeError);
  });
});
