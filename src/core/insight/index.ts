/** The `insight` feature (the app's Inside screen): activations, filter pictures, CAM variants, deletion curve. */
export * from './cam';
export * from './deletion';
export {
  ascend,
  BOOK_SETTINGS,
  DEFAULT_FILTER_SETTINGS,
  deprocess,
  filterCacheKey,
  grayNoise,
  roll,
  type AscentResult,
  type AscentStep,
  type FilterSettings,
} from './filters';
export * from './graphs';
export * from './grid';
export * from './layers';
export * from './sessions';
export type { Feed, GraphSession, OpenSession } from '../runtime';
export * from './service';
