// Content fingerprints of stored documents: what a resuming producer compares against its
// input to prove that the documents a dataset holds are the ones it would label again. A
// document is its corpus index, task and text (the id is a label, not content: a record
// without one is named after its file path, which may be spelled differently next time).
import { createHash } from 'node:crypto';

export interface DocumentContent {
  index: number;
  task?: string | null;
  text: string;
}

/** sha256 (hex) of one document's index, task and text. */
export function documentSha256(document: DocumentContent): string {
  return createHash('sha256')
    .update(JSON.stringify([document.index, document.task ?? null, document.text]))
    .digest('hex');
}

/** Accumulates the fingerprint of a run of documents (a part's), in order. */
export class DocumentsHasher {
  private readonly hash = createHash('sha256');
  count = 0;

  add(document: DocumentContent): void {
    this.hash.update(`${documentSha256(document)}\n`);
    this.count++;
  }

  digest(): string {
    return this.hash.digest('hex');
  }
}
