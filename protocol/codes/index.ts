/** Re-exports the code lists shipped as data (ISO 3166, ISO 4217, UN/ECE Rec 19, 20, 21). */
export * from './countries.js';
export * from './currencies.js';
export * from './units.js';
export * from './package-kinds.js';
export * from './transport-modes.js';
