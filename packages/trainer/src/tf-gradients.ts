// The gradients the student's training needs, registered with tfjs-core. Its Node entry leaves
// the gradient registry empty (tf.grads, variableGrads and customGrad chains need it); the
// @tensorflow/tfjs umbrella registers every kernel's gradient from tfjs-core's ES-module files,
// bundled into its own Node build. The trainer registers only the kernels its model and losses
// reach, on any backend: measured by recording each gradient called in a training step of the
// model (grouped-query attention and not) under ce and every kd divergence, on the wasm backend
// (with the fused kernels of kernels.ts) and the cpu backend (the generic ops tfjs-node also
// runs), plus the arithmetic around them. The built package inlines them with the rest of
// tfjs-core's ES-module build (tsup.config.ts): Node cannot load those files from the package
// itself, nor its registry-wide register_all_gradients, one of whose files imports tfjs-core's
// whole ES build, whose folder imports Node's ES-module loader refuses.
import { registerGradient, type GradConfig } from '@tensorflow/tfjs-core';
import { addGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Add_grad.js';
import { subGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Sub_grad.js';
import { divGradConfig } from '@tensorflow/tfjs-core/dist/gradients/RealDiv_grad.js';
import { multiplyGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Multiply_grad.js';
import { negGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Neg_grad.js';
import { squareGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Square_grad.js';
import { rsqrtGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Rsqrt_grad.js';
import { expGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Exp_grad.js';
import { logGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Log_grad.js';
import { sigmoidGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Sigmoid_grad.js';
import { softmaxGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Softmax_grad.js';
import { meanGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Mean_grad.js';
import { sumGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Sum_grad.js';
import { reshapeGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Reshape_grad.js';
import { transposeGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Transpose_grad.js';
import { concatGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Concat_grad.js';
import { splitVGradConfig } from '@tensorflow/tfjs-core/dist/gradients/SplitV_grad.js';
import { sliceGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Slice_grad.js';
import { gatherGradConfig } from '@tensorflow/tfjs-core/dist/gradients/GatherV2_grad.js';
import { batchMatMulGradConfig } from '@tensorflow/tfjs-core/dist/gradients/BatchMatMul_grad.js';
import { castGradConfig } from '@tensorflow/tfjs-core/dist/gradients/Cast_grad.js';

const configs: GradConfig[] = [
  addGradConfig, subGradConfig, divGradConfig, multiplyGradConfig, negGradConfig, squareGradConfig, rsqrtGradConfig, expGradConfig, logGradConfig, sigmoidGradConfig, softmaxGradConfig, meanGradConfig, sumGradConfig, reshapeGradConfig, transposeGradConfig, concatGradConfig, splitVGradConfig, sliceGradConfig, gatherGradConfig, batchMatMulGradConfig, castGradConfig,
];

let registered = false;

/** Registers the gradients (once; later calls do nothing). Called where TensorFlow.js work starts, not as an import side effect, which bundlers drop in a package marked free of side effects. */
export function registerTrainingGradients(): void {
  if (registered) return;
  for (const config of configs) registerGradient(config);
  registered = true;
}
