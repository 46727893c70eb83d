// Sliding windows over a document longer than the model's window: every position is labelled
// exactly once, with as much left context as the window allows.
//
// Window j ends at min(window + j·stride, length) and starts `window` tokens earlier (or at 0);
// it labels the positions after the previous window's end. So the first window labels all of
// its positions, each later window labels its last `stride` positions (the last window fewer,
// sitting flush with the document's end so those positions get a full window of context), and
// a labelled position always sees at least `window − stride` tokens before it.
import { TeacherError } from './errors.js';

export interface DocumentWindow {
  /** First token fed to the model. */
  start: number;
  /** One past the last token fed to the model. */
  end: number;
  /** First position whose row this window provides; rows [labelFrom, end) come from it. */
  labelFrom: number;
}

export function checkWindowOptions(window: number, stride: number, contextLength: number): void {
  if (!Number.isInteger(window) || window < 1 || window > contextLength) {
    throw new TeacherError('E_OPTIONS', `window must be an integer in [1, ${contextLength}] (the model's context length), got ${window}`);
  }
  if (!Number.isInteger(stride) || stride < 1 || stride > window) {
    throw new TeacherError('E_OPTIONS', `stride must be an integer in [1, window=${window}], got ${stride}`);
  }
}

/** The windows that cover a document of `length` tokens, in order. */
export function planWindows(length: number, window: number, stride: number): DocumentWindow[] {
  const windows: DocumentWindow[] = [];
  let labelled = 0;
  for (let j = 0; labelled < length; j++) {
    const end = Math.min(window + j * stride, length);
    windows.push({ start: Math.max(0, end - window), end, labelFrom: labelled });
    labelled = end;
  }
  return windows;
}
