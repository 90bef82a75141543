/** Bilateral agreements: the document, its signatures, notices, scope enforcement and life cycle. */
export * from './constants.js';
export * from './document.js';
export * from './field-paths.js';
export * from './lifecycle.js';
export * from './notice.js';
export * from './placeholders.js';
export * from './roots.js';
export * from './scope.js';
export * from './signing.js';
export * from './terms.js';
