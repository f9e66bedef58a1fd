/**
 * The client's watches, kept as ZooKeeper's ZKWatchManager keeps them: one-shot data watches
 * (getData, exists on a node that exists), exist watches (exists on a missing node) and child
 * watches (getChildren), and the persistent and persistent-recursive watches of addWatch,
 * each a table from path to callbacks. An event takes the one-shot callbacks it triggers out
 * of their tables, so each fires once; persistent callbacks stay.
 */
import { EventType, WatcherType } from '../jute/index.js';
import type { WatchCallback } from './types.js';

export const WatchKind = { none: 0, data: 1, exist: 2, child: 3, persistent: 4, persistentRecursive: 5 } as const;
export type WatchKind = (typeof WatchKind)[keyof typeof WatchKind];

type Table = Map<string, Set<WatchCallback>>;

function add(table: Table, path: string, callback: WatchCallback): void {
  const callbacks = table.get(path);
  if (callbacks) callbacks.add(callback);
  else table.set(path, new Set([callback]));
}

function moveInto(table: Table, path: string, into: Set<WatchCallback> | undefined): Set<WatchCallback> | undefined {
  const callbacks = table.get(path);
  if (!callbacks) return into;
  table.delete(path);
  if (!into) return callbacks;
  for (const callback of callbacks) into.add(callback);
  return into;
}

/** Copies (never aliases: the table keeps its set) the callbacks of `path` into `into`. */
function copyInto(table: Table, path: string, into: Set<WatchCallback> | undefined): Set<WatchCallback> | undefined {
  const callbacks = table.get(path);
  if (!callbacks) return into;
  into ??= new Set();
  for (const callback of callbacks) into.add(callback);
  return into;
}

/** Whether `table` holds `callback` on `path`, or (no callback given) anything on `path`. */
function holds(table: Table, path: string, callback: WatchCallback | undefined): boolean {
  const callbacks = table.get(path);
  if (!callbacks) return false;
  return callback === undefined ? callbacks.size > 0 : callbacks.has(callback);
}

/** What removeWatches took out, by the event type each callback is told (ZKWatchManager.removeWatcher). */
export interface RemovedWatches {
  /** Data and exist watches: told DataWatchRemoved. */
  data: Set<WatchCallback>;
  /** Child watches: told ChildWatchRemoved. */
  child: Set<WatchCallback>;
  /** Persistent and persistent-recursive watches: told PersistentWatchRemoved. */
  persistent: Set<WatchCallback>;
}

export class WatchRegistry {
  private readonly data: Table = new Map();
  private readonly exist: Table = new Map();
  private readonly child: Table = new Map();
  private readonly persistent: Table = new Map();
  private readonly recursive: Table = new Map();

  add(kind: WatchKind, path: string, callback: WatchCallback): void {
    const table = this.tableOf(kind);
    if (table) add(table, path, callback);
  }

  private tableOf(kind: WatchKind): Table | undefined {
    switch (kind) {
      case WatchKind.data:
        return this.data;
      case WatchKind.exist:
        return this.exist;
      case WatchKind.child:
        return this.child;
      case WatchKind.persistent:
        return this.persistent;
      case WatchKind.persistentRecursive:
        return this.recursive;
      default:
        return undefined;
    }
  }

  /**
   * The callbacks an event triggers (ZKWatchManager.materialize): the one-shot ones are taken
   * out of their tables; persistent watches on the path and recursive watches on the path or
   * an ancestor stay (recursive ones never hear NodeChildrenChanged). A callback reached by
   * several watches is in the set once.
   */
  take(type: number, path: string): Set<WatchCallback> | undefined {
    let callbacks: Set<WatchCallback> | undefined;
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        callbacks = moveInto(this.exist, path, moveInto(this.data, path, undefined));
        break;
      case EventType.NodeChildrenChanged:
        callbacks = moveInto(this.child, path, undefined);
        break;
      case EventType.NodeDeleted:
        callbacks = moveInto(this.child, path, moveInto(this.exist, path, moveInto(this.data, path, undefined)));
        break;
      default:
        return undefined;
    }
    callbacks = copyInto(this.persistent, path, callbacks);
    if (type === EventType.NodeChildrenChanged || this.recursive.size === 0) return callbacks;
    // The path itself, then each ancestor up to the root (PathParentIterator.forAll).
    for (let at = path; ; ) {
      callbacks = copyInto(this.recursive, at, callbacks);
      if (at === '/' || at === '') break;
      const slash = at.lastIndexOf('/');
      at = slash <= 0 ? '/' : at.slice(0, slash);
    }
    return callbacks;
  }

  /** The tables a WatcherType covers (ZKWatchManager.removeWatcher; Any: all five). */
  private tablesOf(type: number): { table: Table; removedAs: keyof RemovedWatches }[] {
    const data = { table: this.data, removedAs: 'data' as const };
    const exist = { table: this.exist, removedAs: 'data' as const };
    const child = { table: this.child, removedAs: 'child' as const };
    const persistent = { table: this.persistent, removedAs: 'persistent' as const };
    const recursive = { table: this.recursive, removedAs: 'persistent' as const };
    switch (type) {
      case WatcherType.Children:
        return [child];
      case WatcherType.Data:
        return [data, exist];
      case WatcherType.Persistent:
        return [persistent];
      case WatcherType.PersistentRecursive:
        return [recursive];
      case WatcherType.Any:
        return [child, data, exist, persistent, recursive];
      default:
        return [];
    }
  }

  /** Whether a watch of `type` on `path` is registered for `callback` (any callback if none given): ZKWatchManager.containsWatcher. */
  contains(type: number, path: string, callback: WatchCallback | undefined): boolean {
    return this.tablesOf(type).some(({ table }) => holds(table, path, callback));
  }

  /** Whether, once `callback` is removed, another callback still has a watch of `type` on `path`. */
  othersRemain(type: number, path: string, callback: WatchCallback): boolean {
    for (const { table } of this.tablesOf(type)) {
      const callbacks = table.get(path);
      if (callbacks && (callbacks.size > 1 || !callbacks.has(callback))) return true;
    }
    return false;
  }

  /** Removes the watches of `type` on `path` of `callback` (all callbacks if none given). */
  remove(type: number, path: string, callback: WatchCallback | undefined): RemovedWatches {
    const removed: RemovedWatches = { data: new Set(), child: new Set(), persistent: new Set() };
    for (const { table, removedAs } of this.tablesOf(type)) {
      const callbacks = table.get(path);
      if (!callbacks) continue;
      if (callback === undefined) {
        table.delete(path);
        for (const each of callbacks) removed[removedAs].add(each);
      } else if (callbacks.delete(callback)) {
        removed[removedAs].add(callback);
        if (callbacks.size === 0) table.delete(path);
      }
    }
    return removed;
  }

  /** Empties the registry, returning each path with its callbacks (once per path). */
  takeAll(): Map<string, Set<WatchCallback>> {
    const all = new Map<string, Set<WatchCallback>>();
    for (const table of this.tables()) {
      for (const [path, callbacks] of table) {
        const into = all.get(path);
        if (!into) all.set(path, new Set(callbacks));
        else for (const callback of callbacks) into.add(callback);
      }
      table.clear();
    }
    return all;
  }

  /** The watched paths of each kind, for SetWatches / SetWatches2 after a reconnect. */
  paths(): { data: string[]; exist: string[]; child: string[]; persistent: string[]; persistentRecursive: string[] } {
    return {
      data: [...this.data.keys()],
      exist: [...this.exist.keys()],
      child: [...this.child.keys()],
      persistent: [...this.persistent.keys()],
      persistentRecursive: [...this.recursive.keys()],
    };
  }

  private tables(): Table[] {
    return [this.data, this.exist, this.child, this.persistent, this.recursive];
  }

  get isEmpty(): boolean {
    return this.tables().every((table) => table.size === 0);
  }

  /** Number of (path, callback) registrations of every kind; for tests and metrics. */
  get count(): number {
    let count = 0;
    for (const table of this.tables()) for (const callbacks of table.values()) count += callbacks.size;
    return count;
  }
}
