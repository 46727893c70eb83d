// AdamW with decoupled weight decay, global-norm gradient clipping, and a state that can be
// written to and restored from a checkpoint bit for bit (so a resumed run continues exactly).
import * as tf from './tf.js';
import { TrainerError } from './errors.js';

export interface AdamWOptions {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled decay applied to matrices (not to norm gains); default 0.1. */
  weightDecay?: number;
}

export class AdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Optimizer steps taken so far. */
  step = 0;
  private readonly parameters: ReadonlyMap<string, tf.Variable>;
  private readonly firstMoments = new Map<string, tf.Variable>();
  private readonly secondMoments = new Map<string, tf.Variable>();

  constructor(parameters: ReadonlyMap<string, tf.Variable>, options: AdamWOptions = {}) {
    this.parameters = parameters;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.95;
    this.epsilon = options.epsilon ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.1;
    for (const [name, parameter] of parameters) {
      this.firstMoments.set(name, tf.variable(tf.zerosLike(parameter), false));
      this.secondMoments.set(name, tf.variable(tf.zerosLike(parameter), false));
    }
  }

  /** One update with the given (already clipped) gradients. */
  apply(gradients: ReadonlyMap<string, tf.Tensor>, learningRate: number): void {
    this.step++;
    const correction1 = 1 - Math.pow(this.beta1, this.step);
    const correction2 = 1 - Math.pow(this.beta2, this.step);
    tf.tidy(() => {
      for (const [name, parameter] of this.parameters) {
        const gradient = gradients.get(name);
        if (!gradient) continue;
        const first = this.firstMoments.get(name)!;
        const second = this.secondMoments.get(name)!;
        const nextFirst = tf.add(tf.mul(first, this.beta1), tf.mul(gradient, 1 - this.beta1));
        const nextSecond = tf.add(tf.mul(second, this.beta2), tf.mul(tf.square(gradient), 1 - this.beta2));
        first.assign(nextFirst);
        second.assign(nextSecond);
        const update = tf.div(tf.div(nextFirst, correction1), tf.add(tf.sqrt(tf.div(nextSecond, correction2)), this.epsilon));
        const decay = parameter.rank >= 2 ? this.weightDecay : 0;
        const decayed = decay > 0 ? tf.mul(parameter, 1 - learningRate * decay) : parameter;
        parameter.assign(tf.sub(decayed, tf.mul(update, learningRate)));
      }
    });
  }

  /** Moments by name (`first.<parameter>`, `second.<parameter>`), for checkpoints. */
  state(): Map<string, Float32Array> {
    const state = new Map<string, Float32Array>();
    for (const [name, moment] of this.firstMoments) state.set(`first.${name}`, moment.dataSync() as Float32Array);
    for (const [name, moment] of this.secondMoments) state.set(`second.${name}`, moment.dataSync() as Float32Array);
    return state;
  }

  /** Restores moments and the step count written by `state()`. */
  restore(state: ReadonlyMap<string, Float32Array>, step: number): void {
    for (const [kind, moments] of [['first', this.firstMoments], ['second', this.secondMoments]] as const) {
      for (const [name, moment] of moments) {
        const values = state.get(`${kind}.${name}`);
        if (!values || values.length !== moment.size) {
          throw new TrainerError('E_CHECKPOINT', `optimizer state ${kind}.${name}: expected ${moment.size} values, found ${values?.length ?? 'none'}; the checkpoint belongs to another model`);
        }
        tf.tidy(() => moment.assign(tf.tensor(values, moment.shape)));
      }
    }
    this.step = step;
  }

  dispose(): void {
    for (const moment of [...this.firstMoments.values(), ...this.secondMoments.values()]) moment.dispose();
    this.firstMoments.clear();
    this.secondMoments.clear();
  }
}

/**
 * Scales gradients so their global L2 norm is at most `maxNorm` (no change when below).
 * Returns the norm before clipping (NaN/Infinity when a gradient is not finite).
 */
export function clipByGlobalNorm(gradients: Map<string, tf.Tensor>, maxNorm: number): number {
  const normTensor = tf.tidy(() => tf.sqrt(tf.addN([...gradients.values()].map((gradient) => tf.sum(tf.square(gradient))))));
  const norm = normTensor.dataSync()[0];
  normTensor.dispose();
  if (Number.isFinite(norm) && maxNorm > 0 && norm > maxNorm) {
    const scale = maxNorm / (norm + 1e-6);
    for (const [name, gradient] of gradients) {
      gradients.set(name, tf.mul(gradient, scale));
      gradient.dispose();
    }
  }
  return norm;
}
