/**
 * Throughput of the message edges (`npm run bench`): XML import of a ~5 KB WCO DM ACI declaration (guard,
 * parse, map, validate) and JSON body validation (JSON.parse plus the schema, totals included), each counted
 * over a fixed time budget after a short warm-up. Targets on the 2-core reference machine (issue 3): at least
 * 1,500 XML imports/s and 20,000 JSON validations/s.
 */
import { parseAciBody, type AciDeclaration } from '../../protocol/messages/aci.js';
import { bodyToXml, parseXmlBody } from '../../protocol/xml/index.js';


/** A two-item KZ -> KG road declaration (consignor with AEO id, consignee, seals, e-CoO references): 5.6 KB as XML. */
export function benchDeclaration(): AciDeclaration {
  return {
    kind: 'declaration',
    functionalReference: 'KZEXP-20261124-0117',
    declarationType: 'export',
    issueDateTime: '2026-11-24T09:30:00+05:00',
    ucr: '6KZ981140001234-FL261124',
    declarationOffice: 'KZALA001',
    consignor: {
      name: 'Almaty Flour Mill JSC', id: '981140001234', aeoId: 'KZAEO981140001234',
      address: { line: 'Raiymbek Ave 348', city: 'Almaty', postcode: '050061', country: 'KZ' },
    },
    consignee: {
      name: 'Bishkek Food Distribution LLC', id: '02304201910123',
      address: { line: 'Zhibek Zholu Ave 500', city: 'Bishkek', postcode: '720005', country: 'KG' },
    },
    borderTransportMeans: { mode: '3', id: '123ABC02', idType: '30', nationality: 'KZ' },
    itinerary: ['KZ', 'KG'],
    officeOfExit: { id: 'KZKOR001', borderCrossingPoint: 'Korday' },
    officeOfEntry: { id: 'KGAKZ001', borderCrossingPoint: 'Ak-Zhol' },
    expectedArrival: '2026-11-25T14:00:00+06:00',
    containerised: false,
    transportEquipment: [{ id: '4512AB02', seals: ['KZS0045871', 'KZS0045872'] }],
    goodsItems: [
      {
        sequence: 1, hsCode: '1101001500', description: 'Wheat flour of common wheat, first grade, in 50 kg polypropylene bags',
        packages: { count: 300, kind: '5H', marks: 'AFM/FL/2611/1-300' }, grossMass: { value: 15060, unit: 'KGM' }, netMass: { value: 15000, unit: 'KGM' },
        customsValue: { amount: 4650, currency: 'USD' }, originCountry: 'KZ', ecooReference: 'KZ-ST1-2026-0048213',
      },
      {
        sequence: 2, hsCode: '1902199000', description: 'Uncooked pasta of common wheat flour, not stuffed, not containing eggs, in 10 kg cartons',
        packages: { count: 500, kind: 'CT', marks: 'AFM/PS/2611/1-500' }, grossMass: { value: 5250, unit: 'KGM' }, netMass: { value: 5000, unit: 'KGM' },
        customsValue: { amount: 4500, currency: 'USD' }, originCountry: 'KZ', ecooReference: 'KZ-ST1-2026-0048213',
      },
    ],
    totalGrossMass: { value: 20310, unit: 'KGM' },
    totalPackages: 800,
    goodsItemCount: 2,
  };
}

function rate(budgetMs: number, run: () => void): number {
  const warmEnd = performance.now() + Math.min(300, budgetMs / 5);
  while (performance.now() < warmEnd) run();
  let n = 0;
  const start = performance.now();
  let now = start;
  while (now - start < budgetMs) {
    for (let i = 0; i < 16; i++) run();
    n += 16;
    now = performance.now();
  }
  return Math.round(n / ((now - start) / 1000));
}

/** Imports per second of the ~5 KB ACI XML and JSON validations per second, about `budgetMs` each. */
export function benchXml(budgetMs = 2000): { xml_import_per_s: number; json_validate_per_s: number } {
  const body = benchDeclaration();
  const xml = bodyToXml('aci', body);
  const json = JSON.stringify(body);
  const xml_import_per_s = rate(budgetMs, () => {
    parseXmlBody(xml);
  });
  const json_validate_per_s = rate(budgetMs, () => {
    parseAciBody(JSON.parse(json));
  });
  return { xml_import_per_s, json_validate_per_s };
}
