/** Re-exports the business message schemas and the registry that maps an envelope type to its body schema. */
export * from './aci.js';
export * from './ecoo.js';
export * from './aeo.js';
export * from './receipt.js';
export * from './registry.js';
export * from './control.js';
