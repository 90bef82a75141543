export * from './base64url.js';
export * from './canonical.js';
export * from './payload.js';
export * from './seal.js';
export * from './open.js';
