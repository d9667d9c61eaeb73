/** Fixtures and checks shared by the app's unit tests. */
import { expect } from 'vitest';
import type { ModelInfo } from '../../workers/engine/protocol';

/** A loaded model as the engine describes it: the demo VGG16 unless `pretrained` (then a Keras import). */
export function modelInfo(id = 'm', { pretrained = false, parts = [] as ModelInfo['parts'] } = {}): ModelInfo {
  return {
    id,
    architecture: 'vgg16',
    source: pretrained ? 'keras-h5' : 'demo',
    pretrained,
    preprocessing: 'caffe',
    quantization: 'int8',
    inputSize: 224,
    parts,
  };
}

/** Every <button> has text or an aria-label; every input is inside a <label> or has aria-label. */
export function expectLabelled(markup: string): void {
  for (const m of markup.matchAll(/<button([^>]*)>([\s\S]*?)<\/button>/g)) {
    const text = m[2]!.replace(/<[^>]+>/g, '').trim();
    expect(text || /aria-label="[^"]+"/.test(m[1]!), `unlabelled button: ${m[0]}`).toBeTruthy();
  }
  const labelled = markup.replace(/<label[\s\S]*?<\/label>/g, '');
  for (const m of labelled.matchAll(/<(input|select|textarea)([^>]*)>/g))
    expect(/aria-label="[^"]+"/.test(m[2]!), `unlabelled input: ${m[0]}`).toBe(true);
}
