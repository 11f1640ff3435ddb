// The bundles `search`, `eval` and `verify` read from disk: each --index is an index bundle folder
// or a folder holding a shard list (shards.json, written by `index --shards K`), whose shards are
// read in its order, each checked against the list (src/core/formats/shardList.ts) before its files.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as reader from '../core/formats/bundleReader.ts';
import { documentGroups } from '../core/ranking.ts';
import { SHARD_LIST_FILE, checkShardAgainstList, parseShardList, type ShardList } from '../core/formats/shardList.ts';
import type { LoadedModel } from '../core/formats/index.ts';
import { FileSource, readBundleFile, type LoadedIndex } from './readBundle.ts';

/** One bundle of the set: its folder, the name messages give it, and its verified files. */
export interface SetBundle {
  dir: string;
  name: string;
  index: LoadedIndex;
}

export interface IndexSet {
  bundles: SetBundle[];
  /** The shard lists read, by the folder given. */
  lists: { dir: string; list: ShardList }[];
}

/** Whether the folder holds a shard list rather than one bundle. */
export function isShardListFolder(dir: string): boolean {
  return existsSync(join(dir, SHARD_LIST_FILE));
}

/** A folder's shard list, read and checked (not yet its shards). */
export async function readShardList(dir: string): Promise<ShardList> {
  return parseShardList(await readBundleFile(dir, SHARD_LIST_FILE), `${dir}/${SHARD_LIST_FILE}`);
}

/** The bundles of every --index, in order: a shard list's shards in its order, each verified against it. */
export async function readIndexSet(dirs: string[], opts: { model?: LoadedModel } = {}): Promise<IndexSet> {
  const set: IndexSet = { bundles: [], lists: [] };
  for (const dir of dirs) {
    if (!isShardListFolder(dir)) {
      set.bundles.push({ dir, name: dir, index: await readOne(dir, opts) });
      continue;
    }
    const list = await readShardList(dir);
    set.lists.push({ dir, list });
    for (let i = 0; i < list.shards.length; i++) {
      const shardDir = join(dir, ...list.shards[i].path.split('/'));
      if (!existsSync(join(shardDir, 'manifest.json')))
        throw new Error(`${dir}/${SHARD_LIST_FILE}: shards[${i}] ${list.shards[i].path} is missing (no ${join(shardDir, 'manifest.json')})`);
      const index = await readOne(shardDir, opts, (opened, metadataDocs) => checkShardAgainstList(list, i, opened, metadataDocs, `${dir}/${SHARD_LIST_FILE}`));
      set.bundles.push({ dir: shardDir, name: shardDir, index });
    }
  }
  return set;
}

async function readOne(
  dir: string,
  opts: { model?: LoadedModel },
  check?: (opened: reader.OpenedIndex, documents: number | undefined) => void,
): Promise<LoadedIndex> {
  const source = new FileSource(dir);
  let opened: reader.OpenedIndex;
  try {
    opened = await reader.openIndexBundle(source, opts);
  } catch (e) {
    throw new Error(`${dir}: ${(e as Error).message}`);
  }
  // The list's hash first: a replaced shard is named as such before its own files are read.
  if (check) check(opened, opened.manifest.documents?.count);
  let files: reader.IndexFiles;
  try {
    files = await reader.readIndexFiles(source, opened.manifest);
  } catch (e) {
    throw new Error(`${dir}: ${(e as Error).message}`);
  }
  if (check) check(opened, documentGroups(files.metadata).passages.length);
  return { manifest: opened.manifest, ...files };
}
