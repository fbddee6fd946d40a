// Every op family, re-exported. Each family file holds its ops' forward and backward.
export * from './creation.js';
export * from './cast.js';
export * from './view.js';
export * from './matmul.js';
export * from './linear.js';
export * from './indexing.js';
export * from './join.js';
export * from './selection.js';
export * from './rotary.js';
export * from './rotary-tables.js';
export * from './attention.js';
export * from './binary.js';
export * from './unary.js';
export * from './activation.js';
export * from './select.js';
export * from './dropout.js';
