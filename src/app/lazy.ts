// Modules the TUI loads when first needed rather than at start, where every import delays the first frame.

/** The CA registry: conf and its JSON-schema validator (ajv), ~80 ms of imports, needed only once a CA is. */
export const caRegistry = () => import('../services/config/ca-registry.js');
