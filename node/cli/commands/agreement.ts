/**
 * `gnc agreement draft|sign|propose|import|list|show|suspend|terminate|resume`: the bilateral agreement
 * life cycle from the operator's side. Drafts are readable JSON with placeholders like "@root:KG" for the
 * administrations' root fingerprints; signing uses this administration's root key.
 */
import { parseDocument } from 'yaml';
import { AgreementTime } from '../../../protocol/agreement/document.js';
import { decodeAgreement, type SignedAgreement } from '../../../protocol/agreement/index.js';
import { parseSignedJson } from '../../../protocol/envelope/signed-json.js';
import { dirOption, GncError, shellWord } from '../../../protocol/errors.js';
import { AgreementService, type NoticeAction } from '../../agreements/service.js';
import { openOffline } from '../../compose.js';
import { parse } from '../args.js';
import { checkOutFile, FORCE_OPTION, readInputFile, writeOutFile } from '../files.js';
import type { Command } from '../command.js';

/** A draft or signed agreement: as a YAML draft refuses a key twice, and as every reader of signed JSON (signed-json.ts). */
function readJson(path: string): unknown {
  const text = readInputFile(path);
  try {
    JSON.parse(text);
  } catch (err) {
    throw new GncError('GNC_INVALID_JSON', `${path} is not valid JSON (${(err as Error).message}).`);
  }
  return parseSignedJson(text, { what: path, code: 'GNC_AGREEMENT_INVALID' });
}

/** Maximum alias expansions in a YAML draft: a readable draft needs none, a "billion laughs" needs millions. */
const YAML_MAX_ALIASES = 100;

/**
 * A readable draft as JSON or, by its extension (.yaml, .yml), YAML 1.2 with the core schema: no custom tags,
 * no YAML 1.1 surprises (`NO` stays the string "NO", dates stay strings), bounded alias expansion.
 */
function readDraft(path: string): unknown {
  if (!/\.ya?ml$/i.test(path)) return readJson(path);
  const text = readInputFile(path);
  try {
    const doc = parseDocument(text, { schema: 'core', uniqueKeys: true, prettyErrors: true });
    if (doc.errors.length > 0) throw doc.errors[0]!;
    return doc.toJS({ maxAliasCount: YAML_MAX_ALIASES }) as unknown;
  } catch (err) {
    throw new GncError('GNC_CONFIG_INVALID', `${path} is not a valid YAML draft (${(err as Error).message.split('\n')[0]}): fix it or write the draft as JSON.`);
  }
}

/**
 * The agreement of a FILE to sign, as `gnc agreement draft` or a partner wrote it (a JWS, signed or not): anything
 * else (a readable draft, JSON null) is refused here, not read as the id of a stored agreement or a crash.
 */
function signedFile(path: string): SignedAgreement {
  try {
    return decodeAgreement(readJson(path)).signed;
  } catch (err) {
    if (!(err instanceof GncError) || err.code !== 'GNC_AGREEMENT_SIGNATURE') throw err;
    throw new GncError(err.code, `${path}: ${err.message} Sign the file \`gnc agreement draft --dir DIR READABLE.json --out ${shellWord(path)}\` writes, or a partner's signed agreement file.`, { issues: err.issues });
  }
}

async function withService<T>(dir: string, fn: (svc: AgreementService, node: ReturnType<typeof openOffline>) => Promise<T>): Promise<T> {
  const node = openOffline(dir);
  try {
    return await fn(new AgreementService(node.parts, node.agreements, () => node.submit), node);
  } finally {
    await node.close();
  }
}

function versionOf(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  if (!/^[1-9]\d{0,8}$/.test(v)) throw new GncError('GNC_CONFIG_INVALID', `--version must be a version number (1, 2, ...), not ${JSON.stringify(v)}: see \`gnc agreement list\`.`);
  return Number(v);
}

const draftSpec = {
  name: 'agreement draft',
  usage: 'gnc agreement draft --dir DIR FILE.json|FILE.yaml [--out FILE [--force]]',
  description: 'Validate a readable agreement draft (placeholders "@root:XX" become pinned fingerprints) and write it unsigned.',
  options: { dir: { type: 'string' }, out: { type: 'string' }, ...FORCE_OPTION },
  required: ['dir'],
  positionals: { min: 1, max: 1, names: 'FILE' },
} as const;

export const agreementDraftCommand: Command = {
  spec: draftSpec,
  async run(argv, out) {
    const { values, positionals } = parse(draftSpec, argv);
    checkOutFile(values.out, values.force, values.dir);
    await withService(values.dir!, async (svc) => {
      const draft = svc.draft(readDraft(positionals[0]!));
      const text = JSON.stringify(draft, null, 2) + '\n';
      if (values.out) {
        writeOutFile(values.out, text, values.force);
        out(`Draft written to ${values.out}; sign it and propose it to the partner with: gnc agreement sign ${dirOption(values.dir)} ${shellWord(values.out!)} --propose`);
      } else process.stdout.write(text);
    });
  },
};

const signSpec = {
  name: 'agreement sign',
  usage: 'gnc agreement sign --dir DIR (FILE | --id ID [--version N]) [--propose] [--out FILE [--force]]',
  description: "Add this administration's root signature. A partner's proposal signed here goes back to it countersigned, over the wire.",
  options: { dir: { type: 'string' }, id: { type: 'string' }, version: { type: 'string' }, propose: { type: 'boolean' }, out: { type: 'string' }, ...FORCE_OPTION },
  required: ['dir'],
  positionals: { min: 0, max: 1, names: 'FILE' },
} as const;

export const agreementSignCommand: Command = {
  spec: signSpec,
  async run(argv, out) {
    const { values, positionals } = parse(signSpec, argv);
    if (!positionals[0] && !values.id) throw new GncError('GNC_CONFIG_INVALID', 'Name the agreement: a draft FILE or --id ID.');
    // with both, one would be signed and the other ignored
    if (positionals[0] && (values.id !== undefined || values.version !== undefined)) {
      throw new GncError('GNC_CONFIG_INVALID', `Name the agreement once: the draft FILE ${positionals[0]}, or --id ID [--version N] of one this node holds, not both.`);
    }
    const file = positionals[0] ? signedFile(positionals[0]) : undefined;
    checkOutFile(values.out, values.force, values.dir);
    await withService(values.dir!, async (svc) => {
      const k = await svc.sign(file ?? { id: values.id!, version: versionOf(values.version) });
      out(`Signed agreement ${k.document.id} version ${k.document.version}: signed by ${k.signedBy.join(' and ')}${k.complete ? ' (complete)' : `; awaiting ${k.partner}`}`);
      if (values.out) writeOutFile(values.out, JSON.stringify(k.signed, null, 2) + '\n', values.force);
      if (values.propose && !k.complete) {
        const r = await svc.propose(k.document.id, k.document.version);
        out(`Proposed to ${k.partner} as message ${r.messageId}`);
      } else if (k.complete && k.origin === 'partner') out(`Countersigned copy queued for ${k.partner}.`);
      // signed here first and not proposed: nothing reaches the partner until it is, so say how
      else if (!k.complete) out(`${k.partner} gets it for countersignature once it is proposed: gnc agreement propose ${dirOption(values.dir)} --id ${k.document.id} --version ${k.document.version}`);
    });
  },
};

const proposeSpec = {
  name: 'agreement propose',
  usage: 'gnc agreement propose --dir DIR --id ID [--version N]',
  description: 'Send a signed agreement to the partner over the wire for countersignature.',
  options: { dir: { type: 'string' }, id: { type: 'string' }, version: { type: 'string' } },
  required: ['dir', 'id'],
} as const;

export const agreementProposeCommand: Command = {
  spec: proposeSpec,
  async run(argv, out) {
    const { values } = parse(proposeSpec, argv);
    await withService(values.dir!, async (svc) => {
      const r = await svc.propose(values.id!, versionOf(values.version));
      out(`Proposed ${r.agreement.document.id}@${r.agreement.document.version} to ${r.agreement.partner} as message ${r.messageId}`);
    });
  },
};

const importSpec = {
  name: 'agreement import',
  usage: 'gnc agreement import --dir DIR FILE',
  description: 'Import an agreement file signed by the partner (and possibly by you); verified against the pinned roots.',
  options: { dir: { type: 'string' } },
  required: ['dir'],
  positionals: { min: 1, max: 1, names: 'FILE' },
} as const;

export const agreementImportCommand: Command = {
  spec: importSpec,
  async run(argv, out) {
    const { values, positionals } = parse(importSpec, argv);
    await withService(values.dir!, async (svc) => {
      const k = svc.import(readJson(positionals[0]!));
      out(`Imported ${k.document.id}@${k.document.version}, signed by ${k.signedBy.join(' and ')}${k.complete ? ' (complete)' : ''}`);
    });
  },
};

const showSpec = {
  name: 'agreement show',
  usage: 'gnc agreement show --dir DIR --id ID [--version N] [--signed]',
  description: 'Show an agreement (the document, its status, signatures and notices); --signed prints the signed JSON for export.',
  options: { dir: { type: 'string' }, id: { type: 'string' }, version: { type: 'string' }, signed: { type: 'boolean' } },
  required: ['dir', 'id'],
} as const;

export const agreementShowCommand: Command = {
  spec: showSpec,
  async run(argv, out) {
    const { values } = parse(showSpec, argv);
    await withService(values.dir!, async (svc, node) => {
      const k = node.agreements.require(values.id!, versionOf(values.version));
      const v = svc.view(k);
      out(JSON.stringify(values.signed ? v.signed : { ...v, signed: undefined }, null, 2));
    });
  },
};

const listSpec = { name: 'agreement list', usage: 'gnc agreement list --dir DIR', description: 'List agreements with their status.', options: { dir: { type: 'string' } }, required: ['dir'] } as const;

export const agreementListCommand: Command = {
  spec: listSpec,
  async run(argv, out) {
    const { values } = parse(listSpec, argv);
    await withService(values.dir!, async (svc, node) => {
      const all = node.agreements.all();
      if (all.length === 0) out('No agreements. Draft one: gnc agreement draft --dir DIR FILE');
      for (const k of all) {
        const v = svc.view(k);
        out(`${v.id}@${v.version}  with ${v.partner}  ${v.status.padEnd(18)} ${v.validFrom} .. ${v.validUntil}  signed by ${v.signedBy.join(',')}`);
      }
    });
  },
};

const PAST: Record<NoticeAction, string> = { suspend: 'suspended', terminate: 'terminated', resume: 'resumed' };

function noticeCommand(action: NoticeAction): Command {
  const spec = {
    name: `agreement ${action}`,
    usage: `gnc agreement ${action} --dir DIR --id ID --reason TEXT [--effective ISO] [--version N]`,
    description: `${action[0]!.toUpperCase()}${action.slice(1)} an agreement with a root-signed notice that the partner receives over the wire; without --version, the version of ID in force (or suspended) now.`,
    options: { dir: { type: 'string' }, id: { type: 'string' }, reason: { type: 'string' }, effective: { type: 'string' }, version: { type: 'string' } },
    required: ['dir', 'id', 'reason'],
  } as const;
  return {
    spec,
    async run(argv, out) {
      const { values } = parse(spec, argv);
      // options the user typed are usage errors (exit 2) before anything is opened, not a refused notice (exit 6)
      if (values.reason!.trim() === '') throw new GncError('GNC_CONFIG_INVALID', `--reason must say why the agreement is ${PAST[action]}, e.g. --reason "audit of the exchange".`);
      if (values.effective !== undefined && !AgreementTime.safeParse(values.effective).success) {
        throw new GncError('GNC_CONFIG_INVALID', `--effective must be a date like 2026-03-01 or a time with its zone like 2026-03-01T08:00:00Z, got "${values.effective}".`);
      }
      await withService(values.dir!, async (svc) => {
        const r = await svc.notice(values.id!, action, values.reason!, values.effective, versionOf(values.version));
        out(`Agreement ${values.id}@${r.agreement.document.version}: ${action} notice signed and queued for ${r.agreement.partner} as message ${r.messageId}`);
      });
    },
  };
}

export const agreementSuspendCommand = noticeCommand('suspend');
export const agreementTerminateCommand = noticeCommand('terminate');
export const agreementResumeCommand = noticeCommand('resume');
