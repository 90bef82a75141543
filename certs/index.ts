export * from './key-files.js';
export * from './identity.js';
export * from './public-identity.js';
