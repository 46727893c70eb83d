// The models a server offers: every subfolder of the models folder, named after it, loaded
// on first use (once, however many requests ask at the same time) and kept until shutdown.
// Clients name models; a name never becomes a path beyond one checked folder name.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { loadServedModel, type LoadOptions, type ServedModel } from './engine.js';
import { scrubPaths, ServerError } from './errors.js';

const validName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export interface ModelEntry {
  name: string;
  /** Seconds since the epoch when the folder was last changed (OpenAI's `created`). */
  created: number;
  loaded: boolean;
}

export class ModelRegistry {
  private readonly loading = new Map<string, Promise<ServedModel>>();
  private readonly ready = new Map<string, ServedModel>();

  constructor(
    private readonly modelsDir: string,
    private readonly loadOptions: LoadOptions = {},
    private readonly log: (line: string) => void = () => {},
  ) {}

  /** The folders of modelsDir that can be models, read afresh so new folders appear. */
  async list(): Promise<ModelEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.modelsDir);
    } catch (cause) {
      throw new ServerError('E_INTERNAL', 'the models folder cannot be read', { cause });
    }
    const entries: ModelEntry[] = [];
    for (const name of names.sort()) {
      if (!validName.test(name)) continue;
      const info = await stat(join(this.modelsDir, name)).catch(() => undefined);
      if (!info?.isDirectory()) continue;
      entries.push({ name, created: Math.floor(info.mtimeMs / 1000), loaded: this.ready.has(name) });
    }
    return entries;
  }

  async has(name: string): Promise<boolean> {
    if (this.ready.has(name) || this.loading.has(name)) return true;
    if (!validName.test(name)) return false;
    const info = await stat(join(this.modelsDir, name)).catch(() => undefined);
    return info?.isDirectory() ?? false;
  }

  /** The loaded model, loading it first if needed. Unknown names are a 404. */
  async get(name: string): Promise<ServedModel> {
    const model = this.ready.get(name);
    if (model) return model;
    let pending = this.loading.get(name);
    if (!pending) {
      if (!(await this.has(name))) throw unknownModel(name);
      // Checked again: another request may have started loading while this one looked.
      pending = this.loading.get(name);
      if (!pending) {
        const started = performance.now();
        pending = loadServedModel(join(this.modelsDir, name), { ...this.loadOptions, log: (line) => this.log(`model ${name}: ${scrubPaths(line)}`) }).then(
          (loaded) => {
            this.ready.set(name, loaded);
            this.loading.delete(name);
            this.log(`model ${name} loaded in ${Math.round(performance.now() - started)} ms`);
            return loaded;
          },
          (cause: unknown) => {
            this.loading.delete(name);
            this.log(`model ${name} failed to load: ${cause instanceof Error ? cause.message : String(cause)}`);
            throw new ServerError('E_MODEL_LOAD', `the model ${JSON.stringify(name)} could not be loaded; see the server log`, { cause });
          },
        );
        this.loading.set(name, pending);
      }
    }
    return pending;
  }

  async dispose(): Promise<void> {
    await Promise.allSettled([...this.loading.values()]);
    const models = [...this.ready.values()];
    this.ready.clear();
    await Promise.allSettled(models.map((model) => model.dispose()));
  }
}

export function unknownModel(name: string): ServerError {
  return new ServerError('E_MODEL_NOT_FOUND', `no model named ${JSON.stringify(name.slice(0, 128))}; GET /v1/models lists them`);
}
