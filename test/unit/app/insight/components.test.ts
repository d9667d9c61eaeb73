/** The "Inside" screen's components, rendered to HTML from reducer states (canvases are painted in effects). */
import { h } from 'preact';
import { renderToString } from 'preact-render-to-string';
import { describe, expect, it } from 'vitest';
import { CamPanel, type CamActions } from '../../../../src/app/components/CamPanel';
import { DeletionPlot, meanCurve } from '../../../../src/app/components/DeletionPlot';
import { ExplorerPanel, type ExplorerActions } from '../../../../src/app/components/ExplorerPanel';
import { FilterGallery, type GalleryActions } from '../../../../src/app/components/FilterGallery';
import { InsightScreen, type InsightScreenActions } from '../../../../src/app/components/InsightScreen';
import { initialInsightState, insightReducer, type InsightAction } from '../../../../src/app/insight/state';
import { initialState } from '../../../../src/app/state';
import { insightLayers } from '../../../../src/core/insight/layers';
import { VGG16 } from '../../../../src/core/vgg16/spec';
import type { DeletionResult, Explanation } from '../../../../workers/engine/protocol';

const noop = () => {};
const explorerActions: ExplorerActions = {
  onLayer: noop,
  onNorm: noop,
  onPage: noop,
  onEnlarge: noop,
  onFollow: noop,
  onRefresh: noop,
};
const galleryActions: GalleryActions = { onLayer: noop, onCount: noop, onSettings: noop, onShow: noop, onCancel: noop };
const camActions: CamActions = { onMethod: noop, onLayer: noop, onExplain: noop, onFaithfulness: noop };
const LAYERS = insightLayers(VGG16);
const state = (...actions: InsightAction[]) =>
  actions.reduce(
    insightReducer,
    insightReducer(initialInsightState(), { type: 'insight/layers', modelId: 'm', layers: LAYERS }),
  );
const count = (html: string, needle: string) => html.split(needle).length - 1;

const explanation: Explanation = {
  top5: [{ index: 1, label: 'goldfish', prob: 0.25 }],
  target: { index: 1, label: 'goldfish' },
  cam: 'gradcam++',
  layer: 'block4_conv3',
  heatmap: { dims: [1, 1], data: Float32Array.of(1) },
  ms: { run: 5, total: 7 },
};
const deletion: DeletionResult = {
  explanation,
  curve: { fractions: [0, 0.5, 1], scores: [0.4, 0.1, 0], auc: 0.125 },
  random: [
    { fractions: [0, 0.5, 1], scores: [0.4, 0.3, 0], auc: 0.25 },
    { fractions: [0, 0.5, 1], scores: [0.4, 0.1, 0], auc: 0.15 },
  ],
};

describe('ExplorerPanel', () => {
  it('lists every conv and pool layer with its shape, in order', () => {
    const html = renderToString(
      h(ExplorerPanel, { layers: LAYERS, explorer: state().explorer, actions: explorerActions }),
    );
    expect(count(html, '<option')).toBe(18); // 13 conv + 5 pool
    expect(html).toContain('block1_conv1 · 64×224×224');
    expect(html).toContain('block5_pool · 512×7×7');
    expect(html.indexOf('block3_pool')).toBeLessThan(html.indexOf('block4_conv1'));
    expect(html).toContain('No activations yet.');
  });

  it('shows one page of 64 tiles labelled by channel, a pager, and the enlarged channel', () => {
    const maps = { layer: 'block1_conv1', dims: [512, 2, 2], data: new Float32Array(2048) };
    const e = state(
      { type: 'insight/activations', maps, ms: 41.6 },
      { type: 'insight/page', page: 1 },
      { type: 'insight/enlarge', channel: 70 },
    ).explorer;
    const html = renderToString(h(ExplorerPanel, { layers: LAYERS, explorer: e, actions: explorerActions }));
    expect(count(html, 'data-testid="explorer-tile"')).toBe(64);
    expect(html).toContain('aria-label="Channel 64: enlarge"');
    expect(html).toContain('aria-label="Channel 127: enlarge"');
    expect(html).not.toContain('Channel 128: enlarge');
    expect(html).toContain('Channels 64–127 of 512');
    expect(html).toContain('512 channels of 2×2 · 42 ms');
    expect(html).toContain('data-testid="explorer-enlarged"');
    expect(html).toContain('block1_conv1 channel 70, enlarged');
  });
});

describe('FilterGallery', () => {
  it('while running: a progress bar with its numbers and a Cancel button; settings locked', () => {
    const g = state(
      { type: 'insight/gallery-start', key: 'k', cached: [], total: 160 },
      { type: 'insight/gallery-progress', done: 40 },
    ).gallery;
    const html = renderToString(h(FilterGallery, { layers: LAYERS, gallery: g, actions: galleryActions }));
    expect(html).toContain('data-testid="gallery-progress"');
    expect(html).toContain('40 of 160 (25 %)');
    expect(html).toContain('data-testid="gallery-cancel"');
    expect(html).not.toContain('data-testid="gallery-show"');
    expect(count(html, 'disabled')).toBeGreaterThanOrEqual(5);
  });

  it('done: the tiles, and how many came from the cache', () => {
    const image = { width: 1, height: 1, data: new Uint8ClampedArray(4) };
    const g = state(
      { type: 'insight/gallery-start', key: 'k', cached: [{ filter: 0, image, cached: true }], total: 40 },
      { type: 'insight/gallery-tiles', tiles: [{ filter: 1, image, cached: false }] },
      { type: 'insight/gallery-end' },
    ).gallery;
    const html = renderToString(h(FilterGallery, { layers: LAYERS, gallery: g, actions: galleryActions }));
    expect(count(html, 'data-testid="filter-tile"')).toBe(2);
    expect(html).toContain('data-cached="true"');
    expect(html).toContain('2 filters · 1 from the cache');
    expect(count(html, '<option')).toBe(13); // conv layers only
  });
});

describe('CamPanel and DeletionPlot', () => {
  it('offers the three methods; Faithfulness needs a heatmap', () => {
    const html = renderToString(h(CamPanel, { layers: LAYERS, cam: state().cam, actions: camActions }));
    for (const m of ['Grad-CAM', 'Grad-CAM++', 'Layer-CAM']) expect(html).toContain(`>${m}</option>`);
    expect(html).toMatch(/<button[^>]*disabled[^>]*data-testid="cam-faithfulness"/);
    expect(html).not.toContain('data-testid="cam-canvas"');
  });

  it('shows the explained still, what it explains, and the curve', () => {
    const frame = { width: 1, height: 1, data: new Uint8ClampedArray(4) };
    const c = state(
      { type: 'insight/explained', frame, explanation },
      { type: 'insight/deletion-start' },
      { type: 'insight/deletion', result: deletion },
    ).cam;
    const html = renderToString(h(CamPanel, { layers: LAYERS, cam: c, actions: camActions }));
    expect(html).toContain('data-cam="gradcam++"');
    expect(html).toContain('Grad-CAM++ of block4_conv3 for “goldfish” (25.0 % top-1)');
    expect(html).toContain('data-testid="deletion-plot"');
  });

  it('plots the CAM curve and the mean random curve with their areas', () => {
    expect(meanCurve(deletion.random)).toEqual({ fractions: [0, 0.5, 1], scores: [0.4, 0.2, 0], auc: 0.2 });
    expect(meanCurve([])).toBeUndefined();
    const html = renderToString(h(DeletionPlot, { result: deletion, name: 'Grad-CAM' }));
    expect(count(html, '<polyline')).toBe(2);
    expect(html).toContain('Grad-CAM: area 0.125; random maps (mean of 2): area 0.200');
    // x from 36 to 232, y from 116 (0) to 8 (the top score 0.4)
    expect(html).toMatch(/data-testid="deletion-cam"/);
    expect(html).toContain('points="36.0,8.0 134.0,89.0 232.0,116.0"');
  });
});

describe('InsightScreen', () => {
  const actions: InsightScreenActions = {
    onVideo: noop,
    onVideoSize: noop,
    onTab: noop,
    explorer: explorerActions,
    gallery: galleryActions,
    cam: camActions,
  };
  it.each([
    ['explorer', 'data-testid="explorer"'],
    ['filters', 'data-testid="gallery"'],
    ['cam', 'data-testid="cam"'],
  ] as const)('tab %s shows its panel under the camera, with the tab marked current', (tab, panel) => {
    const s = { ...initialState(), insight: state({ type: 'insight/tab', tab }) };
    const html = renderToString(h(InsightScreen, { state: s, actions }));
    expect(html).toContain(panel);
    expect(html).toContain('data-testid="live-video"');
    expect(html).toMatch(
      new RegExp(
        `data-testid="insight-tab-${tab}"[^>]*aria-current="true"|aria-current="true"[^>]*data-testid="insight-tab-${tab}"`,
      ),
    );
    expect(count(html, 'aria-current="true"')).toBe(1);
  });
});
