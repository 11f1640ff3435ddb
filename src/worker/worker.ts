// The worker entry: the engine runs off the main thread and is exposed with comlink.
import * as Comlink from 'comlink';
import { SearchEngine } from './searchEngine.ts';

Comlink.expose(new SearchEngine());
