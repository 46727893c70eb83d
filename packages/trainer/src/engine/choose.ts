// Which engine a run trains on. `auto` takes onnxruntime when onnxruntime-node is installed and
// TensorFlow.js otherwise; a resumed run keeps the engine it recorded (the two engines sum in
// different orders, so a run continued on the other one would not equal an uninterrupted run).
import { TrainerError } from '../errors.js';
import type { EngineName } from './engine.js';
import { findOnnxruntime, loadOnnxruntime } from './onnxruntime.js';

export type EngineChoice = 'auto' | EngineName;

/** The engine to run: `choice` as asked, `recorded` the engine a resumed checkpoint names. */
export async function chooseEngine(choice: EngineChoice, recorded?: string): Promise<EngineName> {
  if (choice === 'onnxruntime') {
    try {
      await loadOnnxruntime();
    } catch (error) {
      throw new TrainerError('E_ENGINE', `\`engine\` onnxruntime: ${(error as Error).message}, or set \`engine\` to auto to train on TensorFlow.js without it`, { cause: error });
    }
    return 'onnxruntime';
  }
  if (choice === 'tensorflow') return 'tensorflow';
  if (recorded === 'tensorflow') return 'tensorflow';
  if (recorded === 'onnxruntime') {
    try {
      await loadOnnxruntime();
    } catch (error) {
      throw new TrainerError('E_ENGINE', `the run was trained on the onnxruntime engine and resumes only on it: ${(error as Error).message}`, { cause: error });
    }
    return 'onnxruntime';
  }
  return (await findOnnxruntime()) ? 'onnxruntime' : 'tensorflow';
}
