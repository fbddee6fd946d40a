// Every op family, re-exported. Each family file holds its ops' forward and backward.
export * from './creation.js';
export * from './cast.js';
export * from './view.js';
export * from './matmul.js';
export * from './reduce.js';
export * from './softmax.js';
export * from './norm.js';
export * from './cross-entropy.js';
