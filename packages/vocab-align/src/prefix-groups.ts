// Prefix groups: the student tokens a teacher token's probability can stand for when the two
// tokenizers cut text differently. A teacher token's mass is the chance that the text goes on
// with its bytes; the student spells that start with the token the map gives (its longest
// student prefix), but the student may also have longer tokens the teacher lacks ("_name"
// where the teacher has only "_"): the teacher's "_" then holds mass that belongs to those.
// So the two vocabularies are joined as a graph — each teacher token to its mapped student
// token, each student token to the longest teacher token its bytes begin with — and every
// connected component is one group. A distillation objective compares the teacher's mass per
// group with the student's summed mass over the group's student tokens, instead of pinning
// each teacher probability on one id. With a teacher vocabulary that holds every student
// token, each group has one student token and this is the map itself.
import { AlignError } from './errors.js';
import { tokenKey, type VocabularyMap } from './vocabulary-map.js';

export interface PrefixGroups {
  /** Group of each teacher id (−1: an id with no token). */
  readonly teacherGroup: Int32Array;
  /** Group of each student id: a teacher id's group is its mapped student id's. */
  readonly studentGroup: Int32Array;
  /** Group g's student ids, ascending: members[offsets[g] … offsets[g + 1]). */
  readonly offsets: Int32Array;
  readonly members: Int32Array;
  /** Group sizes, largest first (for sizing target rows). */
  readonly sizesDescending: Int32Array;
}

/** Entries a target row needs when it holds `teacherIds` kept teacher ids: the sizes of that many largest groups. */
export function groupedWidth(groups: PrefixGroups, teacherIds: number): number {
  let width = 0;
  const count = Math.min(teacherIds, groups.sizesDescending.length);
  for (let index = 0; index < count; index++) width += groups.sizesDescending[index];
  return width;
}

function find(parent: Int32Array, node: number): number {
  let root = node;
  while (parent[root] !== root) root = parent[root];
  while (parent[node] !== root) {
    const next = parent[node];
    parent[node] = root;
    node = next;
  }
  return root;
}

/** The prefix groups of a complete map's teacher/student pair. */
export function prefixGroups(map: VocabularyMap): PrefixGroups {
  if (!map.isComplete) throw new AlignError('E_INPUT', 'prefix groups need a complete vocabulary map; call complete() first');
  const { teacher, student, teacherToStudent } = map;
  const teacherVocab = teacher.vocabSize;
  const studentVocab = student.vocabSize;
  // Nodes: teacher ids [0, T), student ids [T, T + S).
  const parent = new Int32Array(teacherVocab + studentVocab);
  for (let node = 0; node < parent.length; node++) parent[node] = node;
  const union = (a: number, b: number) => {
    const rootA = find(parent, a);
    const rootB = find(parent, b);
    if (rootA !== rootB) parent[rootA] = rootB;
  };
  const teacherByKey = new Map<string, number>();
  for (let id = 0; id < teacherVocab; id++) {
    const studentId = teacherToStudent[id];
    if (studentId < 0) continue;
    union(id, teacherVocab + studentId);
    if (!teacher.isSpecial(id) && teacher.token(id) !== undefined) {
      const key = tokenKey(teacher, id);
      if (key.length > 0 && !teacherByKey.has(key)) teacherByKey.set(key, id);
    }
  }
  for (let id = 0; id < studentVocab; id++) {
    if (student.isSpecial(id) || student.token(id) === undefined) continue;
    const key = tokenKey(student, id);
    for (let length = key.length; length > 0; length--) {
      const teacherId = teacherByKey.get(key.slice(0, length));
      if (teacherId !== undefined) {
        union(teacherVocab + id, teacherId);
        break;
      }
    }
  }
  // Number the components that hold a student id (every mapped teacher id is in one of them).
  const groupOfRoot = new Int32Array(parent.length).fill(-1);
  const sizes: number[] = [];
  for (let id = 0; id < studentVocab; id++) {
    const root = find(parent, teacherVocab + id);
    if (groupOfRoot[root] < 0) {
      groupOfRoot[root] = sizes.length;
      sizes.push(0);
    }
    sizes[groupOfRoot[root]]++;
  }
  const offsets = new Int32Array(sizes.length + 1);
  for (let group = 0; group < sizes.length; group++) offsets[group + 1] = offsets[group] + sizes[group];
  const members = new Int32Array(studentVocab);
  const filled = new Int32Array(sizes.length);
  const studentGroup = new Int32Array(studentVocab);
  for (let id = 0; id < studentVocab; id++) {
    const group = groupOfRoot[find(parent, teacherVocab + id)];
    studentGroup[id] = group;
    members[offsets[group] + filled[group]++] = id;
  }
  const teacherGroup = new Int32Array(teacherVocab).fill(-1);
  for (let id = 0; id < teacherVocab; id++) if (teacherToStudent[id] >= 0) teacherGroup[id] = groupOfRoot[find(parent, id)];
  const sizesDescending = Int32Array.from(sizes).sort().reverse();
  return { teacherGroup, studentGroup, offsets, members, sizesDescending };
}
