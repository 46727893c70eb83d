// The teacher → student id map (the aligned, "third" vocabulary). A teacher token whose bytes a
// student token spells exactly maps to it; any other is split by the student's tokenizer and
// maps by the map's rule: `first-piece` (the student tokenizer's first piece of its text) or
// `byte-prefix` (the longest student token whose bytes are a prefix of its bytes). Special tokens
// map to the student's special tokens. Filled lazily (only the ids that occur) or all at once.
import { AlignError } from './errors.js';
import type { SpecialTokenRole, Tokenizer } from '@kd/text';

/** How a teacher id found its student id; stored per id in `VocabularyMap.matchKind`. */
export const MatchKind = {
  /** Not mapped yet (lazy maps). */
  pending: 0,
  /** A student token stands for the same bytes. */
  exact: 1,
  /**
   * Mapped by the rule. `first-piece`: the first piece of the student tokenizer's split of the
   * token's text; for bytes that start inside a character, or text the tokenizer reads as a
   * control token, the longest student text token the bytes begin with. `byte-prefix`: always
   * that longest student token.
   */
  tokenizer: 2,
  /** A special token mapped to the student's special token of the same content or role. */
  special: 3,
  /** Text the student tokenizer cannot start with any token: its unknown token. */
  unknown: 4,
  /** The id has no token in the teacher's vocabulary (a gap in the ids); it never occurs in rows. */
  absent: 5,
} as const;
export type MatchKind = (typeof MatchKind)[keyof typeof MatchKind];

/** How a teacher token without a byte-identical student token is mapped. */
export type MappingRule = 'first-piece' | 'byte-prefix';
export const mappingRules: readonly MappingRule[] = ['first-piece', 'byte-prefix'];

/** Byte strings as Map keys; special tokens live in their own namespace (a character no byte spells). */
const specialNamespace = '\u0100';

export function tokenKey(tokenizer: Tokenizer, id: number): string {
  const bytes = tokenizer.tokenBytes(id);
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  return tokenizer.isSpecial(id) ? specialNamespace + text : text;
}

/**
 * The student's tokens by byte key. Where several share bytes (SentencePiece's `A` and
 * `<0x41>`), the one the student's tokenizer emits wins: regular pieces over byte-fallback
 * pieces, then the lower id.
 */
export function studentTokensByKey(student: Tokenizer): Map<string, number> {
  const byKey = new Map<string, number>();
  const byteFallbackIds: number[] = [];
  for (let id = 0; id < student.vocabSize; id++) {
    const token = student.token(id);
    if (token === undefined) continue;
    if (student.family === 'sentencepiece' && /^<0x[0-9A-Fa-f]{2}>$/.test(token) && student.tokenBytes(id).length === 1) {
      byteFallbackIds.push(id);
      continue;
    }
    const key = tokenKey(student, id);
    if (!byKey.has(key)) byKey.set(key, id);
  }
  for (const id of byteFallbackIds) {
    const key = tokenKey(student, id);
    if (!byKey.has(key)) byKey.set(key, id);
  }
  return byKey;
}

// ignoreBOM keeps a leading U+FEFF: it is text a token stands for, not a file marker.
const fatalUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The longest prefix of `bytes` that is valid UTF-8 text (a token may end inside a character). */
function longestTextPrefix(bytes: Uint8Array): string {
  for (let cut = 0; cut <= Math.min(3, bytes.length); cut++) {
    try {
      return fatalUtf8.decode(bytes.subarray(0, bytes.length - cut));
    } catch {
      // a partial character at the end: try one byte shorter
    }
  }
  return '';
}

// A student without a role's token: document boundaries stand in for one another, padding
// becomes the end of a document.
const roleSubstitutes: Record<SpecialTokenRole, readonly SpecialTokenRole[]> = {
  bos: ['bos', 'eos'],
  eos: ['eos', 'bos'],
  pad: ['pad', 'eos'],
  unk: ['unk'],
};

export class VocabularyMap {
  /** Student id of each teacher id; −1 while pending (lazy maps) or for ids with no token. */
  readonly teacherToStudent: Int32Array;
  /** How each teacher id was mapped (see MatchKind). */
  readonly matchKind: Uint8Array;
  private studentByKey?: Map<string, number>;
  private studentSpecialByContent?: Map<string, number>;

  constructor(
    readonly teacher: Tokenizer,
    readonly student: Tokenizer,
    initial?: { teacherToStudent: Int32Array; matchKind: Uint8Array },
    readonly rule: MappingRule = 'first-piece',
  ) {
    if (initial && (initial.teacherToStudent.length !== teacher.vocabSize || initial.matchKind.length !== teacher.vocabSize)) {
      throw new AlignError('E_INPUT', `a map for a teacher vocabulary of ${teacher.vocabSize} ids needs arrays of that length, got ${initial.teacherToStudent.length} and ${initial.matchKind.length}`);
    }
    this.teacherToStudent = initial?.teacherToStudent ?? new Int32Array(teacher.vocabSize).fill(-1);
    this.matchKind = initial?.matchKind ?? new Uint8Array(teacher.vocabSize);
  }

  get teacherVocabSize(): number {
    return this.teacher.vocabSize;
  }

  /** The length of the aligned (student) vocabulary vector that rows scatter into. */
  get studentVocabSize(): number {
    return this.student.vocabSize;
  }

  get isComplete(): boolean {
    return this.matchKind.indexOf(MatchKind.pending) === -1;
  }

  /** Maps every teacher id not mapped yet. */
  async complete(): Promise<void> {
    const pending: number[] = [];
    for (let id = 0; id < this.matchKind.length; id++) if (this.matchKind[id] === MatchKind.pending) pending.push(id);
    await this.mapIds(pending);
  }

  /** Maps the ids among `ids` not mapped yet (e.g. a sparse row's ids before scattering it). */
  async ensure(ids: ArrayLike<number>): Promise<void> {
    let pending: number[] | undefined;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i];
      if (!(id >= 0 && id < this.matchKind.length) || !Number.isInteger(id)) {
        throw new AlignError('E_INPUT', `teacher id ${id} is outside the teacher vocabulary [0, ${this.matchKind.length}); the rows were labelled with another tokenizer`);
      }
      if (this.matchKind[id] === MatchKind.pending) (pending ??= []).push(id);
    }
    if (pending) await this.mapIds([...new Set(pending)]);
  }

  /** Student id of a mapped teacher id. */
  studentId(teacherId: number): number {
    const id = this.teacherToStudent[teacherId];
    if (id === undefined || id < 0) {
      throw new AlignError('E_UNMAPPED', `teacher id ${teacherId} is not mapped; call ensure([${teacherId}]) or complete() first`);
    }
    return id;
  }

  private lookups(): { byKey: Map<string, number>; specialByContent: Map<string, number> } {
    this.studentByKey ??= studentTokensByKey(this.student);
    if (!this.studentSpecialByContent) {
      this.studentSpecialByContent = new Map();
      for (let id = 0; id < this.student.vocabSize; id++) {
        const token = this.student.token(id);
        if (token !== undefined && this.student.isSpecial(id) && !this.studentSpecialByContent.has(token)) this.studentSpecialByContent.set(token, id);
      }
    }
    return { byKey: this.studentByKey, specialByContent: this.studentSpecialByContent };
  }

  private set(teacherId: number, studentId: number, kind: MatchKind): void {
    this.teacherToStudent[teacherId] = studentId;
    this.matchKind[teacherId] = kind;
  }

  private async mapIds(ids: number[]): Promise<void> {
    const { byKey, specialByContent } = this.lookups();
    const { teacher, student } = this;
    const teacherRoles = new Map<number, SpecialTokenRole[]>();
    for (const role of ['bos', 'eos', 'pad', 'unk'] as const) {
      const id = teacher.roles[role];
      if (id !== undefined) teacherRoles.set(id, [...(teacherRoles.get(id) ?? []), role]);
    }
    const studentSpecialFallback = student.roles.unk ?? student.roles.eos ?? student.roles.bos ?? student.roles.pad;

    const viaTokenizer: number[] = [];
    for (const id of ids) {
      const token = teacher.token(id);
      if (token === undefined) {
        this.set(id, -1, MatchKind.absent);
        continue;
      }
      if (teacher.isSpecial(id)) {
        const sameContent = specialByContent.get(token);
        const byRole = (teacherRoles.get(id) ?? [])
          .flatMap((role) => roleSubstitutes[role].map((substitute) => student.roles[substitute]))
          .find((candidate) => candidate !== undefined);
        const target = sameContent ?? byRole ?? studentSpecialFallback;
        if (target !== undefined) {
          this.set(id, target, MatchKind.special);
          continue;
        }
        // A student with no special tokens at all: the token's text is all there is to map.
      }
      const studentRaw = student.idOfToken(token);
      const key = tokenKey(teacher, id);
      if (studentRaw !== undefined && tokenKey(student, studentRaw) === key) {
        this.set(id, studentRaw, MatchKind.exact);
        continue;
      }
      const exact = byKey.get(key);
      if (exact !== undefined) {
        this.set(id, exact, MatchKind.exact);
        continue;
      }
      viaTokenizer.push(id);
    }
    if (viaTokenizer.length === 0) return;
    if (this.rule === 'byte-prefix') {
      for (const id of viaTokenizer) this.mapToLongestPrefix(id, byKey);
      return;
    }

    const texts: string[] = [];
    const textIds: number[] = [];
    for (const id of viaTokenizer) {
      const bytes = teacher.tokenBytes(id);
      const text = longestTextPrefix(bytes);
      if (text.length > 0) {
        texts.push(text);
        textIds.push(id);
        continue;
      }
      // Starts inside a character: no text to tokenize, so the longest student token its bytes begin with.
      this.mapToLongestPrefix(id, byKey);
    }
    // Batches keep the binding's worker threads busy without holding every encoding at once.
    const batch = 4096;
    for (let start = 0; start < texts.length; start += batch) {
      const pieces = (await student.encodeFragments(texts.slice(start, start + batch))).map((ids) => (ids.length > 0 ? ids[0] : -1));
      pieces.forEach((piece, offset) => {
        const id = textIds[start + offset];
        // Text that spells a student control token ("<s>" in a byte-level vocabulary) is still
        // text: it maps to a text token, not to the control token the tokenizer would emit.
        if (piece >= 0 && !student.isSpecial(piece)) this.set(id, piece, MatchKind.tokenizer);
        else this.mapToLongestPrefix(id, byKey);
      });
    }
  }

  private mapToLongestPrefix(teacherId: number, byKey: Map<string, number>): void {
    const bytes = this.teacher.tokenBytes(teacherId);
    const key = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
    for (let length = key.length - 1; length > 0; length--) {
      const prefix = byKey.get(key.slice(0, length));
      if (prefix !== undefined) {
        this.set(teacherId, prefix, MatchKind.tokenizer);
        return;
      }
    }
    this.mapToUnknown(teacherId);
  }

  private mapToUnknown(teacherId: number): void {
    const unknown = this.student.roles.unk;
    if (unknown === undefined) {
      throw new AlignError(
        'E_UNMAPPABLE',
        `teacher token ${teacherId} (${JSON.stringify(this.teacher.token(teacherId))}) has no student token that begins its text, and the student tokenizer ${this.student.path} has no unknown token; use a student tokenizer that covers every byte (byte-level BPE or byte fallback)`,
      );
    }
    this.set(teacherId, unknown, MatchKind.unknown);
  }
}

/** A map that fills itself as ids are needed: call `ensure(row.ids)` before scattering a row. */
export function createVocabularyMap(teacher: Tokenizer, student: Tokenizer, options: { rule?: MappingRule } = {}): VocabularyMap {
  return new VocabularyMap(teacher, student, undefined, options.rule ?? 'first-piece');
}
