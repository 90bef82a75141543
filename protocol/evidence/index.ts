export * from './chain.js';
export * from './compact-jws.js';
export * from './checkpoint.js';
export * from './bundle.js';
export * from './statement.js';
