/**
 * zod failures as the issues of a GncError, worded the same way for agreement documents, notices and
 * minimised bodies: a JSON pointer, what was expected (zod's "Invalid input: expected X, received Y" and
 * the refinements' "expected X" reduced to X) and what arrived. Internal to protocol/agreement.
 */
import type { z } from 'zod';
import type { ErrorIssue } from '../errors.js';
import { moreProblems, zodIssues } from '../validate.js';

export function issuesOf(error: z.ZodError, input: unknown, prefix = ''): ErrorIssue[] {
  return zodIssues(error, input, prefix).map((i) => {
    const expected = i.expected
      .replace(/^Invalid (?:input|option): /, '')
      .replace(/^expected /, '')
      .replace(/, received [^,]*$/, '');
    return { ...i, expected, message: `${i.path || '/'}: expected ${expected}, received ${i.received}` };
  });
}

/** "first problem (and N more problems)" for an error message. */
export function summary(issues: readonly ErrorIssue[]): string {
  return `${issues[0]?.message ?? 'unknown problem'}${moreProblems(issues.length)}`;
}
