/**
 * The commands `gnc partner` refusals suggest carry the data dir and the agreement the CLI knows, so that they can be
 * pasted; `gnc partner add` names a revoked key once, however many notices revoke it. Real nodes and data dirs, the
 * CLI in this process.
 */
import { execFile } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadIdentity } from '../../../certs/identity.js';
import { BIN } from '../../helpers/cli.js';
import { api, initNode, networkForFile, pinnedPairDirs, runCli, tempDir } from '../../helpers/network.js';

const { net, nodes: { KZ: kz, KG: kg } } = networkForFile(['KZ', 'KG']);

const base = tempDir('gnc-partner-suggestions-');
afterAll(() => rmSync(base, { recursive: true, force: true }));

async function refused(args: string[]): Promise<string> {
  const r = await runCli(args);
  expect(r.code, r.out.join('\n')).not.toBe(0);
  return r.out[0]!;
}

describe('gnc partner refusals', () => {
  it('suggest commands with the --dir and the agreement of the refused one, ready to paste', async () => {
    const bound = await refused(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'pilot over']);
    expect(bound).toContain(`terminate it first (\`gnc agreement terminate --dir ${kz.dir} --id KZ-KG-test --version 1 --reason TEXT\`)`);
    const unknown = await refused(['partner', 'remove', '--dir', kz.dir, 'UZ', '--reason', 'pilot over']);
    expect(unknown).toContain(`\`gnc partner list --dir ${kz.dir}\` shows the partners`);
    const kgRoot = loadIdentity(kg.dir).root.thumbprint;
    const replace = await refused(['partner', 'add', '--dir', kz.dir, join(net.base, 'KG.identity.json'), `--fingerprint=${kgRoot}`, '--replace-root']);
    expect(replace).toContain(`run \`gnc partner remove --dir ${kz.dir} KG --reason TEXT\``);

    // a termination KG has not received yet: remove KG once it has, as the listing it names shows
    await kg.node.stop();
    expect((await api(kz, 'POST', '/v1/agreements/KZ-KG-test/terminate', { reason: 'Pilot ended' })).status).toBe(202);
    const undelivered = await refused(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'pilot over']);
    expect(undelivered).toContain(`remove KG once it is (\`gnc messages --dir ${kz.dir} --partner KG --type agreement\`)`);

    const removed = await runCli(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'pilot over', '--despite-agreement']);
    expect(removed.code, removed.out.join('\n')).toBe(0);
    const pinAgain = `\`gnc partner add --dir ${kz.dir} FILE --fingerprint FINGERPRINT\``;
    expect(removed.out[0]).toContain(`${pinAgain} pins it again.`);
    expect(await refused(['partner', 'remove', '--dir', kz.dir, 'KG', '--reason', 'pilot over'])).toContain(`pin its identity with ${pinAgain}.`);
  });

  it('quote a data dir whose path has a space or shell metacharacters, so the suggested command runs as pasted', async () => {
    const dir = await initNode(join(base, `customs data 'KZ' $HOME;`), 'KZ');
    const unknown = await refused(['partner', 'remove', '--dir', dir, 'UZ', '--reason', 'pilot over']);
    const suggested = /`(gnc partner list [^`]*)`/.exec(unknown)?.[1];
    expect(suggested, unknown).toBe(`gnc partner list --dir '${dir.replace(/'/g, "'\\''")}'`);
    // the suggestion as an operator pastes it into a shell, gnc being the built CLI
    const run = await new Promise<{ err: Error | null; stdout: string }>((resolve) => {
      execFile('bash', ['-c', `gnc() { "${process.execPath}" "${BIN}" "$@"; }\n${suggested!}`], { timeout: 30_000 }, (err, stdout) => resolve({ err, stdout }));
    });
    expect(run.err, run.stdout).toBeNull();
    expect(run.stdout).toContain(`No partners yet: gnc partner add ${suggested!.slice('gnc partner list '.length)} FILE`);
  });

  it('gnc partner add names a key that two notices revoke once', async () => {
    const kzDir = await initNode(base, 'KZ');
    const kgDir = await initNode(base, 'KG');
    const oldKid = loadIdentity(kzDir).node.thumbprint;
    // KZ has no partner when it rotates: the old key is retired at once, by a first revocation notice
    expect((await runCli(['keys', 'rotate', '--dir', kzDir])).code).toBe(0);
    const revoked = await runCli(['keys', 'revoke', '--dir', kzDir, '--kid', oldKid, '--reason', 'key copied', '--at', new Date(Date.now() - 60_000).toISOString()]);
    expect(revoked.code, revoked.out.join('\n')).toBe(0);
    const kgFile = join(base, 'kg.json');
    expect((await runCli(['identity', 'export', '--dir', kgDir, '--out', kgFile])).code).toBe(0);
    const pinned = await runCli(['partner', 'add', '--dir', kzDir, kgFile, '--fingerprint', loadIdentity(kgDir).root.thumbprint]);
    expect(pinned.code, pinned.out.join('\n')).toBe(0);
    const queued = pinned.out.find((l) => l.startsWith('Queued to KG:'));
    expect(queued, pinned.out.join('\n')).toContain(`then the revocation(s) of node key(s) ${oldKid}, so that`);
  });
});

describe('gnc agreement propose of an agreement this node has not signed', () => {
  it('suggests the sign command with the --dir, id and version, ready to paste', async () => {
    const dirs = await pinnedPairDirs(join(base, 'pair'));
    const drafted = join(base, 'kg-draft.json');
    const signed = join(base, 'kg-signed.json');
    const example = new URL('../../../examples/agreements/kz-kg-mra.json', import.meta.url).pathname;
    expect((await runCli(['agreement', 'draft', '--dir', dirs.KG!, example, '--out', drafted])).code).toBe(0);
    const kgSigned = await runCli(['agreement', 'sign', '--dir', dirs.KG!, drafted, '--out', signed]);
    expect(kgSigned.code, kgSigned.out.join('\n')).toBe(0);
    const imported = await runCli(['agreement', 'import', '--dir', dirs.KZ!, signed]);
    expect(imported.code, imported.out.join('\n')).toBe(0);
    const id = (JSON.parse(readFileSync(example, 'utf8')) as { id: string }).id;
    const refusal = await refused(['agreement', 'propose', '--dir', dirs.KZ!, '--id', id]);
    const suggested = `gnc agreement sign --dir ${dirs.KZ} --id ${id} --version 1 --propose`;
    expect(refusal).toMatch(/^error GNC_AGREEMENT_SIGNATURE: /);
    expect(refusal).toContain(`\`${suggested}\``);
    // as pasted, it signs and proposes (the partner's node is not running: the proposal waits in the outbox)
    const run = await runCli(suggested.split(' ').slice(1));
    expect(run.code, run.out.join('\n')).toBe(0);
  });
});
