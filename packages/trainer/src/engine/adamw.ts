// AdamW with decoupled weight decay and global-norm clipping on Float32Arrays: the optimizer of
// the onnxruntime engine. Moments are kept per parameter and written to checkpoints as
// `first.<name>` / `second.<name>` (the layout the checkpoint format has always used), so a
// resumed run continues bit for bit. Arithmetic is float64 per element, stored as float32.
import { TrainerError } from '../errors.js';

export interface AdamWSettings {
  beta1?: number;
  beta2?: number;
  epsilon?: number;
  /** Decoupled decay applied to matrices (not to norm gains); default 0.1. */
  weightDecay?: number;
}

export class ArrayAdamW {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly weightDecay: number;
  /** Optimizer steps taken so far. */
  step = 0;
  private readonly first = new Map<string, Float32Array>();
  private readonly second = new Map<string, Float32Array>();

  /** `matrices` names the parameters that decay (rank ≥ 2). */
  constructor(
    private readonly parameters: ReadonlyMap<string, Float32Array>,
    private readonly matrices: ReadonlySet<string>,
    settings: AdamWSettings = {},
  ) {
    this.beta1 = settings.beta1 ?? 0.9;
    this.beta2 = settings.beta2 ?? 0.95;
    this.epsilon = settings.epsilon ?? 1e-8;
    this.weightDecay = settings.weightDecay ?? 0.1;
    for (const [name, values] of parameters) {
      this.first.set(name, new Float32Array(values.length));
      this.second.set(name, new Float32Array(values.length));
    }
  }

  /**
   * One update of every parameter in place. `gradientScale` multiplies every gradient on the
   * way (the clipping factor), so clipping costs no pass of its own over the gradients.
   */
  apply(gradients: ReadonlyMap<string, Float32Array>, learningRate: number, gradientScale = 1): void {
    this.step++;
    const { beta1, beta2, epsilon } = this;
    const keep1 = 1 - beta1;
    const keep2 = 1 - beta2;
    const stepSize = learningRate / (1 - Math.pow(beta1, this.step));
    const inverseCorrection2 = 1 / (1 - Math.pow(beta2, this.step));
    for (const [name, parameter] of this.parameters) {
      const gradient = gradients.get(name);
      if (!gradient) continue;
      const first = this.first.get(name)!;
      const second = this.second.get(name)!;
      const keep = this.matrices.has(name) ? 1 - learningRate * this.weightDecay : 1;
      for (let index = 0; index < parameter.length; index++) {
        const g = gradient[index] * gradientScale;
        const m = beta1 * first[index] + keep1 * g;
        const v = beta2 * second[index] + keep2 * g * g;
        first[index] = m;
        second[index] = v;
        parameter[index] = parameter[index] * keep - (stepSize * m) / (Math.sqrt(v * inverseCorrection2) + epsilon);
      }
    }
  }

  /** Moments by name (`first.<parameter>`, `second.<parameter>`), copies for checkpoints. */
  state(): Map<string, Float32Array> {
    const state = new Map<string, Float32Array>();
    for (const [name, moment] of this.first) state.set(`first.${name}`, moment.slice());
    for (const [name, moment] of this.second) state.set(`second.${name}`, moment.slice());
    return state;
  }

  /** Restores moments and the step count written by `state()`. */
  restore(state: ReadonlyMap<string, Float32Array>, step: number): void {
    for (const [kind, moments] of [['first', this.first], ['second', this.second]] as const) {
      for (const [name, moment] of moments) {
        const values = state.get(`${kind}.${name}`);
        if (!values || values.length !== moment.length) {
          throw new TrainerError('E_CHECKPOINT', `optimizer state ${kind}.${name}: expected ${moment.length} values, found ${values?.length ?? 'none'}; the checkpoint belongs to another model`);
        }
        moment.set(values);
      }
    }
    this.step = step;
  }
}

/** Global L2 norm of the gradients (NaN/Infinity when a gradient is not finite). */
export function globalNorm(gradients: ReadonlyMap<string, Float32Array>): number {
  let squares = 0;
  for (const gradient of gradients.values()) {
    for (let index = 0; index < gradient.length; index++) {
      const value = gradient[index];
      squares += value * value;
    }
  }
  return Math.sqrt(squares);
}

/** The factor that brings a gradient of norm `norm` down to `maxNorm` (1 when below; 0 turns clipping off). */
export function clipScale(norm: number, maxNorm: number): number {
  return Number.isFinite(norm) && maxNorm > 0 && norm > maxNorm ? maxNorm / (norm + 1e-6) : 1;
}
