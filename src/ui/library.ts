// The package entry (`import { createSearch } from 'hypencoder-web'`, built by vite.lib.config.ts):
// the library API (src/lib/search.ts) and the <hypencoder-search> element, which importing this
// registers, so one script tag and one element add search to a page. It lives in src/ui because
// it includes the element; src/lib itself imports nothing of the page.
import { defineSearchElement } from './element.ts';

export { createSearch, engineModes, SEARCH_DEFAULTS, SEARCH_MODES } from '../lib/search.ts';
export type {
  CreateSearchOptions,
  EngineInfo,
  HypencoderSearch,
  LoadProgress,
  SearchEvents,
  SearchHit,
  SearchMode,
  SearchOptions,
  SearchResponse,
  TextRange,
} from '../lib/search.ts';
export { HypencoderSearchElement, defineSearchElement } from './element.ts';

defineSearchElement();
