/**
 * Projection rows -> the API views documented in protocol/risk.ts. The list view is stored with the row,
 * rewritten by each assessment, so a page of arrivals is served without parsing anything. The full assessment
 * (risk_assessments) keeps the thresholds and explanation it was computed with, so an answer never mixes an
 * old score with new thresholds.
 */
import type { DataTerms } from '../../protocol/agreement/terms.js';
import type { ArrivalView, Assessment, Indicator, PurgedVersion, RiskLevel } from '../../protocol/risk.js';
import type { ConsignmentRow, PurgedVersionRow } from './consignments.js';
import type { ArrivalSummary } from './declaration.js';

/** What risk_assessments.assessment holds. */
export interface StoredAssessment {
  thresholds: { medium: number; high: number };
  explanation: string;
  indicators: Indicator[];
  /** The consignment state it was computed on (version in force, status, versions received). */
  basis: { seq: number; status: string; versions: number };
}

const NOT_ASSESSED: StoredAssessment = { thresholds: { medium: 0, high: 0 }, explanation: 'not assessed yet', indicators: [], basis: { seq: 0, status: 'active', versions: 0 } };

export function parseStored(json: string | undefined): StoredAssessment {
  return json ? (JSON.parse(json) as StoredAssessment) : NOT_ASSESSED;
}

/** The list view as stored with the row (`terms` null in one an earlier version stored, until the engine adds them). */
export function arrivalView(row: Pick<ConsignmentRow, 'view'>): ArrivalView {
  const view = JSON.parse(row.view) as ArrivalView;
  view.terms ??= null;
  return view;
}

/** A purged version as the views show it. */
export function purgedVersionView(p: PurgedVersionRow): PurgedVersion {
  return { messageId: p.message_id, kind: p.kind, created: p.created, purgedAt: new Date(p.purged_at).toISOString() };
}

/**
 * Whether purged version `p` still counts against a consignment whose version in force was created at `created`: one
 * created after it (the data shown may be superseded), or a cancellation whenever created (held, it would keep the
 * consignment cancelled whatever amendment came after it). ConsignmentRepo.purgedAfter selects the same in SQL.
 */
export function shownPurged(p: Pick<PurgedVersion, 'kind' | 'created'>, created: string): boolean {
  return p.created > created || p.kind === 'cancellation';
}

/**
 * What an assessment adds to its explanation when versions that `shownPurged` counts were purged (the retention purge
 * put an older version back in force, or took a cancellation): the officer reads that the data assessed may be
 * superseded, or that the consignment was cancelled.
 */
export function purgedNote(purged: readonly PurgedVersion[]): string {
  const list = (ps: readonly PurgedVersion[]) => ps.map((p) => `${p.kind} ${p.messageId} (created ${p.created}, purged ${p.purgedAt})`).join(', ');
  const newer = purged.filter((p) => p.kind !== 'cancellation');
  const cancellations = purged.filter((p) => p.kind === 'cancellation');
  return (
    (newer.length > 0 ? `; assessed on an older version: the retention purge took the content of the newer ${list(newer)}, so this data may be superseded` : '') +
    (cancellations.length > 0 ? `; it was cancelled: the retention purge took the content of its ${list(cancellations)}, so it may show as active although it is not` : '')
  );
}

/**
 * Builds the list view of a consignment from its row, the declaration in force, (once computed) its assessment, the
 * terms of the messages it comes from (combineTerms), and the purged versions shownPurged counts.
 */
export function buildView(
  row: Pick<ConsignmentRow, 'root_id' | 'partner' | 'status' | 'versions' | 'updated_at'>,
  summary: ArrivalSummary & { currentMessageId: string },
  a: { level: RiskLevel; score: number; indicators: Indicator[] } | undefined,
  terms: DataTerms | null,
  purged: readonly PurgedVersion[] = [],
): ArrivalView {
  return {
    id: row.root_id,
    partner: row.partner,
    status: row.status,
    version: row.versions,
    ...summary,
    level: a?.level ?? 'low',
    score: a?.score ?? 0,
    indicators: (a?.indicators ?? []).map(({ code, kind, weight, rule }) => ({ code, kind, weight, ...(rule !== undefined ? { rule } : {}) })),
    terms,
    ...(purged.length > 0 ? { purgedVersions: [...purged] } : {}),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export function assessmentView(row: ConsignmentRow, stored: StoredAssessment): Assessment {
  return {
    consignment: row.root_id,
    partner: row.partner,
    revision: row.revision,
    assessedAt: new Date(row.assessed_at ?? row.updated_at).toISOString(),
    level: (row.level ?? 'low') as RiskLevel,
    score: row.score ?? 0,
    thresholds: stored.thresholds,
    explanation: stored.explanation,
    indicators: stored.indicators,
  };
}

/**
 * One CSV line per arrival for analysts (RFC 4180 quoting). Text cells come from partners' declarations, and
 * a spreadsheet evaluates a cell starting with = + - @ (or a tab or carriage return before one) as a formula
 * (`=HYPERLINK(...)` sends data away): such a cell gets a leading apostrophe, as OWASP's CSV injection advice
 * says, so it opens as the text it is. Numbers are numbers and stay as they are. Columns added later go at the end.
 */
export const CSV_COLUMNS = [
  'id', 'partner', 'status', 'version', 'expectedArrival', 'officeOfEntry', 'borderCrossingPoint', 'transportMeans', 'containers', 'consignorId', 'consignorAeoId',
  'exporterId', 'exporterAeoId', 'consigneeId', 'hsCodes', 'grossMassKg', 'packages', 'level', 'score', 'indicators',
  'agreement', 'purpose', 'retainUntil', 'onwardTransfer',
  // appended last, so an integrator's column positions stay
  'purgedVersions', 'unNumbers',
] as const;

function csvCell(v: string | number | undefined): string {
  const s = v === undefined ? '' : typeof v === 'number' ? String(v) : /^[=+\-@\t\r]/.test(v) ? `'${v}` : v;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(a: ArrivalView): string {
  const cells = [
    a.id, a.partner, a.status, a.version, a.expectedArrival, a.officeOfEntry.id, a.officeOfEntry.borderCrossingPoint, a.transportMeans.id, a.containers.join(' '),
    a.consignor.id, a.consignor.aeoId, a.exporter?.id, a.exporter?.aeoId, a.consignee.id, a.goods.hsCodes.join(' '), a.goods.grossMassKg, a.goods.packages, a.level, a.score,
    a.indicators.map((i) => i.rule ?? i.code).join(' '),
    // the terms (empty when not known): a spreadsheet row carries what may be done with it, as the API's views do
    a.terms?.agreement, a.terms?.purpose, a.terms?.retainUntil, a.terms ? String(a.terms.onwardTransfer) : undefined,
    // versions purged at their retention end that make the row older data (or active although cancelled): a spreadsheet
    // warns as the JSON views do (empty when none)
    a.purgedVersions?.map((p) => `${p.kind} ${p.messageId} created ${p.created} purged ${p.purgedAt}`).join('; '),
    // the dangerous goods, space-separated as hsCodes (empty when none)
    a.goods.unNumbers.join(' '),
  ];
  return cells.map(csvCell).join(',');
}
