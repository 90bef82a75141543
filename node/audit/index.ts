export * from './report.js';
export * from './verify-bundle.js';
export * from './verify-log.js';
export * from './signature-pool.js';
export { verifyStrict, STRICT_RFC8032 } from './strict-ed25519.js';
