/** Pre-arrival risk use of the received data: arrivals view, partner AEO registry, cross-checks, feeds. */
export { createRisk, type Risk, type RiskOptions } from './extension.js';
export { RiskEngine } from './engine.js';
export { RiskFeed } from './feed.js';
export { ArrivalQueries } from './query.js';
export { loadRules, defaultRules, DEFAULT_WEIGHTS, type LoadedRules } from './rules.js';
export { signatureHeader } from './webhook.js';
