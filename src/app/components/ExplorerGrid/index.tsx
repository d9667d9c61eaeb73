/**
 * One page of a layer's channel maps as viridis tiles, painted from the transferred Float32Array (no
 * per-tile worker call). Each tile is a button (Enter or a tap enlarges it) labelled with its channel.
 * Canvases are painted in layout effects: a new result never shows a frame of stale or blank tiles.
 */
import { useLayoutEffect, useMemo, useRef } from 'preact/hooks';
import type { ActivationMaps } from '../../../../workers/engine/protocol';
import { channelRanges } from '../../../core/insight/grid';
import { paintChannel } from '../../insight/draw';
import { PAGE_SIZE, type MapNormalisation } from '../../insight/state';

export interface ExplorerGridProps {
  maps: ActivationMaps;
  norm: MapNormalisation;
  page: number;
  enlarged?: number;
  onEnlarge(channel: number | undefined): void;
}

interface ChannelCanvasProps {
  maps: ActivationMaps;
  channel: number;
  range: [number, number];
  class: string;
  label: string;
  testId?: string;
}

function ChannelCanvas({ maps, channel, range, class: cls, label, testId }: ChannelCanvasProps) {
  const ref = useRef<HTMLCanvasElement>(null);
  useLayoutEffect(() => {
    if (ref.current) paintChannel(ref.current, maps, channel, range);
  }, [maps, channel, range[0], range[1]]);
  return <canvas ref={ref} class={cls} role="img" aria-label={label} data-testid={testId} />;
}

export function ExplorerGrid({ maps, norm, page, enlarged, onEnlarge }: ExplorerGridProps) {
  const channels = maps.dims[0] ?? 0;
  const ranges = useMemo(() => channelRanges(maps.data, channels, norm), [maps, channels, norm]);
  const first = page * PAGE_SIZE;
  const shown = Array.from({ length: Math.max(0, Math.min(PAGE_SIZE, channels - first)) }, (_, i) => first + i);
  const big = enlarged !== undefined && enlarged < channels ? enlarged : undefined;
  return (
    <div class="explorer-grid-wrap">
      {big !== undefined && (
        <figure
          class="explorer-big"
          data-testid="explorer-enlarged"
          onKeyDown={(e) => e.key === 'Escape' && onEnlarge(undefined)}
        >
          <ChannelCanvas
            maps={maps}
            channel={big}
            range={ranges[big]!}
            class="explorer-big-canvas"
            label={`${maps.layer} channel ${big}, enlarged`}
          />
          <figcaption>
            Channel {big}{' '}
            <button type="button" onClick={() => onEnlarge(undefined)} autoFocus>
              Close
            </button>
          </figcaption>
        </figure>
      )}
      <ul class="explorer-grid" data-testid="explorer-grid" aria-label={`${maps.layer} channels`}>
        {shown.map((c) => (
          <li key={c}>
            <button
              type="button"
              class="explorer-tile"
              data-testid="explorer-tile"
              aria-pressed={big === c}
              aria-label={`Channel ${c}: enlarge`}
              onClick={() => onEnlarge(big === c ? undefined : c)}
            >
              <ChannelCanvas maps={maps} channel={c} range={ranges[c]!} class="tile-canvas" label={`channel ${c}`} />
              <span class="tile-index">{c}</span>
            </button>
          </li>
        ))}
      </ul>
    </div>
  );
}
