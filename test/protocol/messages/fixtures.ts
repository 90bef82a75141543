/**
 * Shared test helpers for the message and XML tests: the example bodies of examples/messages (the realistic
 * CAREC set doubles as the fixtures) and a way to capture the GncError a call throws.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { GncError } from '../../../protocol/errors.js';

export const EXAMPLES_DIR = fileURLToPath(new URL('../../../examples/messages/', import.meta.url));
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export const EXAMPLE_NAMES = [
  'aci-kz-kg-road',
  'aci-cn-kz-rail',
  'aci-kz-kg-amendment',
  'aci-kz-kg-cancellation',
  'ecoo-kz-kg-preferential',
  'ecoo-status-cancelled',
  'aeo-kz-snapshot',
  'aeo-kz-suspension',
  'aeo-cn-snapshot-part',
] as const;
export type ExampleName = (typeof EXAMPLE_NAMES)[number];

/** A fresh copy of an example body (tests mutate it). */
export function example(name: ExampleName): Record<string, any> {
  return JSON.parse(readFileSync(`${EXAMPLES_DIR}${name}.json`, 'utf8')) as Record<string, any>;
}

export function exampleXml(name: ExampleName): string {
  return readFileSync(`${EXAMPLES_DIR}${name}.xml`, 'utf8');
}

/** Runs `fn`, expects a GncError and returns it for assertions on code and issues. */
export function gncError(fn: () => unknown): GncError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(GncError);
    return err as GncError;
  }
  throw new Error('expected a GncError, but nothing was thrown');
}

/** Paths of the issues of an error, for `toContain` assertions. */
export function paths(err: GncError): string[] {
  return (err.issues ?? []).map((i) => i.path);
}
