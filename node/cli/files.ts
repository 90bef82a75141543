/**
 * The files and data dir a CLI user names: a path that cannot be read is GNC_NOT_FOUND (exit 4) with the path;
 * a --dir that holds no node is said to be one before anything is created in it.
 */
import { readFileSync } from 'node:fs';
import { GncError } from '../../protocol/errors.js';
import { readConfig } from '../config.js';
import { Store } from '../store/store.js';

/** The store of the node in `dir` (GNC_IDENTITY_MISSING when `dir` is no node's data dir: nothing is created). */
export function openNodeStore(dir: string): Store {
  readConfig(dir);
  return Store.open(dir);
}

export function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new GncError('GNC_NOT_FOUND', `Cannot read ${path}: check the path.`);
  }
}
