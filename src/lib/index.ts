// The library entry (`import { createSearch } from 'hypencoder-web'`, built by vite.lib.config.ts).
// Importing it also registers <hypencoder-search>, so one script tag and one element add search to a page.
import { defineSearchElement } from '../ui/element.ts';

export { createSearch, SEARCH_MODES, engineModes } from './search.ts';
export type { CreateSearchOptions, EngineInfo, HypencoderSearch, LoadProgress, SearchEvents, SearchHit, SearchMode, SearchOptions, SearchResponse } from './search.ts';
export { HypencoderSearchElement, defineSearchElement } from '../ui/element.ts';

defineSearchElement();
