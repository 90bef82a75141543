/**
 * `gnc arrivals`: the consignments expected at this country's border as a readable table (or JSON lines),
 * with their risk level and indicators, read from the node's store. Filters are the API's (/v1/arrivals) and
 * are validated by the same schema. Reading only, so it runs beside a live node (WAL: readers never block
 * its writes) or on a stopped node's data dir: the running node keeps the view current; when messages wait
 * to be assessed (the node is stopped) the command says so.
 */
import { GncError } from '../../../protocol/errors.js';
import { ArrivalsQuery, type ArrivalView } from '../../../protocol/risk.js';
import { offlineEngine } from '../../risk/engine.js';
import { ArrivalQueries } from '../../risk/query.js';
import { arrivalView } from '../../risk/views.js';
import { parse, parseOptions } from '../args.js';
import type { Command } from '../command.js';
import { openNodeStore } from '../files.js';

const spec = {
  name: 'arrivals',
  usage:
    'gnc arrivals --dir DIR [--from ISO] [--to ISO] [--upcoming] [--border NAME] [--office ID] [--partner XX] [--hs PREFIX] [--trader ID] [--aeo ID] [--means ID] [--container ID] [--level low|medium|high] [--include-cancelled] [--limit N] [--json]',
  description: 'List consignments expected at this border with their risk level and indicators.',
  options: {
    dir: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' }, upcoming: { type: 'boolean' }, border: { type: 'string' }, office: { type: 'string' }, partner: { type: 'string' },
    hs: { type: 'string' }, trader: { type: 'string' }, aeo: { type: 'string' }, means: { type: 'string' }, container: { type: 'string' }, level: { type: 'string' },
    'include-cancelled': { type: 'boolean' }, limit: { type: 'string' }, json: { type: 'boolean' },
  },
  required: ['dir'],
} as const;

/** API parameter -> CLI option, so a validation error names what the operator typed. */
const OPTION_OF: Record<string, string> = {
  from: '--from', to: '--to', borderCrossingPoint: '--border', officeOfEntry: '--office', partner: '--partner', hsPrefix: '--hs', trader: '--trader', aeoId: '--aeo',
  transportMeans: '--means', container: '--container', level: '--level', includeCancelled: '--include-cancelled', limit: '--limit',
};

const pad = (s: string, n: number): string => (s.length > n ? s.slice(0, n - 1) + '~' : s.padEnd(n));

function line(a: ArrivalView): string {
  const when = a.expectedArrival.replace(/:00([+-]\d\d:\d\d|Z)$/, '$1');
  const place = a.officeOfEntry.borderCrossingPoint ?? a.officeOfEntry.id;
  const hs = a.goods.hsCodes.map((h) => h.slice(0, 4)).join(' ');
  // dangerous goods first catch the eye of the officer at the border: the UN numbers of the items, or '-'
  const un = a.goods.unNumbers.join(' ') || '-';
  const level = a.status === 'cancelled' ? 'CANCELLED' : a.level.toUpperCase();
  const indicators = a.indicators.filter((i) => i.weight !== 0).map((i) => `${i.rule ?? i.code}(${i.weight > 0 ? '+' : ''}${i.weight})`).join(' ') || '-';
  return `${pad(when, 23)} ${pad(place, 14)} ${pad(a.partner, 4)} ${pad(a.functionalReference, 26)} ${pad(a.transportMeans.id, 11)} ${pad(hs, 16)} ${pad(un, 10)} ${pad(level, 9)} ${pad(String(a.score), 5)} ${indicators}`;
}

export const arrivalsCommand: Command = {
  spec,
  async run(argv, out) {
    const { values: v } = parse(spec, argv);
    if (v.upcoming && v.from !== undefined) throw new GncError('GNC_CONFIG_INVALID', '--upcoming is --from now: give one of --upcoming and --from, not both. Run `gnc arrivals --help`.');
    const raw = {
      from: v.from ?? (v.upcoming ? new Date().toISOString() : undefined), to: v.to, borderCrossingPoint: v.border, officeOfEntry: v.office, partner: v.partner, hsPrefix: v.hs,
      trader: v.trader, aeoId: v.aeo, transportMeans: v.means, container: v.container, level: v.level, includeCancelled: v['include-cancelled'] ? 'true' : undefined, limit: v.limit ?? '50',
    };
    const q = parseOptions(ArrivalsQuery, raw, OPTION_OF);
    // a dir without a node is named as such, instead of an empty database being created in it
    const store = openNodeStore(v.dir!);
    try {
      const engine = offlineEngine(store);
      const { rows, nextCursor } = new ArrivalQueries(store.db, engine.consignments).list(q);
      const views = rows.map((r) => arrivalView(r));
      if (v.json) {
        for (const a of views) out(JSON.stringify(a));
      } else if (views.length === 0) {
        out('No arrivals match.');
      } else {
        out(`${pad('EXPECTED', 23)} ${pad('BORDER', 14)} ${pad('FROM', 4)} ${pad('CONSIGNMENT', 26)} ${pad('TRANSPORT', 11)} ${pad('HS', 16)} ${pad('UN', 10)} ${pad('LEVEL', 9)} ${pad('SCORE', 5)} INDICATORS`);
        for (const a of views) out(line(a));
        if (nextCursor) out(`(first ${views.length} shown: narrow the filters or raise --limit)`);
      }
      const lag = engine.lag();
      if (lag > 0 && !v.json) out(`note: ${lag} received message(s) not assessed yet: the node assesses them when it runs (gnc start).`);
    } finally {
      store.close();
    }
  },
};
