/**
 * The lines `gnc agreement draft` and `gnc agreement sign` print after success name the next step, and following
 * them as printed gets the signed proposal queued for the partner (README, Partner onboarding step 3), on real data
 * dirs of KZ and KG that pinned each other.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openAgreementDraft, pinnedPairDirs, runCli, tempDir } from '../../helpers/network.js';

const example = new URL('../../../examples/agreements/kz-kg-mra.json', import.meta.url).pathname;
const base = tempDir('gnc-agreement-advice-');
let kz: string;

beforeAll(async () => {
  const dirs = await pinnedPairDirs(base);
  kz = dirs.KZ;
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** The command a printed line ends with, as the operator would type it (without the leading `gnc`). */
function commandIn(line: string): string[] {
  const m = /: gnc (.+)$/.exec(line);
  expect(m, line).not.toBeNull();
  return m![1]!.split(' ');
}

const queuedProposals = async (): Promise<string[]> => (await runCli(['messages', '--dir', kz, '--partner', 'KG', '--type', 'agreement'])).out.filter((l) => /-> KG +agreement propose/.test(l));

describe('the next step gnc agreement prints', () => {
  it('draft: the printed command signs and proposes the agreement to the partner', async () => {
    const draft = await runCli(['agreement', 'draft', '--dir', kz, example, '--out', join(base, 'draft.json')]);
    expect(draft.code, draft.out.join('\n')).toBe(0);
    const sign = await runCli(commandIn(draft.out.at(-1)!));
    expect(sign.code, sign.out.join('\n')).toBe(0);
    expect(sign.out.join('\n')).toMatch(/^Proposed to KG as message \S+$/m);
    expect(await queuedProposals()).toHaveLength(1);
  });

  it('sign without --propose: the printed command proposes it', async () => {
    writeFileSync(join(base, 'open.json'), JSON.stringify(openAgreementDraft('KZ', 'KG')));
    const draft = await runCli(['agreement', 'draft', '--dir', kz, join(base, 'open.json'), '--out', join(base, 'open-draft.json')]);
    expect(draft.code, draft.out.join('\n')).toBe(0);
    const sign = await runCli(['agreement', 'sign', '--dir', kz, join(base, 'open-draft.json')]);
    expect(sign.code, sign.out.join('\n')).toBe(0);
    expect(sign.out.join('\n')).not.toMatch(/Proposed to/);
    const propose = await runCli(commandIn(sign.out.at(-1)!));
    expect(propose.code, propose.out.join('\n')).toBe(0);
    expect(await queuedProposals()).toHaveLength(2);
  });
});
