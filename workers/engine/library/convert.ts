/**
 * The streaming safetensors converter (src/core/vgg16/safetensors.ts) as the URL import uses it: a
 * factory the library takes as an option (tests wrap it), loaded on demand since only URL imports need it.
 */
import type { SafetensorsConverter, SafetensorsOptions, ShardSink } from '../../../src/core/vgg16/safetensors';

export type StreamConverter = SafetensorsConverter;
export type ConverterFactory = (
  options: SafetensorsOptions,
  sink: ShardSink,
) => StreamConverter | Promise<StreamConverter>;

export const defaultConverter: ConverterFactory = async (options, sink) =>
  (await import('../../../src/core/vgg16/safetensors')).createSafetensorsConverter(options, sink);
