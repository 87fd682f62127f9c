import type { ImageColumn } from './image-columns.js';
import type { ImageRow } from './images.js';

export type WriteKind = 'insert' | 'update' | 'delete';

/** What an operator decided for a dirty undo record (resolveDirtyRollback). */
export type DirtyResolution = 'restore-before' | 'keep-current';

/** The undo of one managed write, stored as JSON text in `dtx_fmt_undo.image`. */
export interface UndoImage {
  v: 1;
  cols: ImageColumn[];
  pk: string[];
  /** The rows before the write (none for an insert). */
  before: ImageRow[];
  /** The rows after it, by primary key (none for a delete). */
  after: ImageRow[];
  /** PostgreSQL GENERATED ALWAYS identity: re-inserting a deleted row says OVERRIDING SYSTEM VALUE. */
  identityAlways?: true;
}

export interface UndoRecord {
  branchId: string;
  /** Order of the write in its try. */
  seq: number;
  table: string;
  kind: WriteKind;
  image: UndoImage;
  /** `dtx_fmt_undo.id`: order of tries across the branches of one database. */
  id?: number;
  resolution?: DirtyResolution | null;
  /** Lock keys of the rows it wrote. */
  rowKeys: string[];
}
