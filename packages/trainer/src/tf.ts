// TensorFlow.js as the trainer uses it: @tensorflow/tfjs-core (no umbrella: its layers,
// converter, data and webgl packages are ~200 MB the trainer never calls) with the gradients of
// the kernels the student's training reaches registered (tf-gradients.ts; initializeBackend and
// the tensorflow engine register them too, for bundles that skip this module).
import { registerTrainingGradients } from './tf-gradients.js';

registerTrainingGradients();

export * from '@tensorflow/tfjs-core';
