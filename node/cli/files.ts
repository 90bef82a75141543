/** Reading the files a CLI user names: a path that cannot be read is GNC_NOT_FOUND (exit 4) with the path. */
import { readFileSync } from 'node:fs';
import { GncError } from '../../protocol/errors.js';

export function readInputFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    throw new GncError('GNC_NOT_FOUND', `Cannot read ${path}: check the path.`);
  }
}
