/**
 * The client's one-shot watches, kept as ZooKeeper's ZKWatchManager keeps them: data watches
 * (getData, exists on a node that exists), exist watches (exists on a missing node) and child
 * watches (getChildren), each a table from path to callbacks. An event takes the callbacks
 * it triggers out of the tables, so each fires once.
 */
import { EventType } from '../jute/index.js';
import type { WatchCallback } from './types.js';

export const WatchKind = { none: 0, data: 1, exist: 2, child: 3 } as const;
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

export class WatchRegistry {
  private readonly data: Table = new Map();
  private readonly exist: Table = new Map();
  private readonly child: Table = new Map();

  add(kind: WatchKind, path: string, callback: WatchCallback): void {
    if (kind === WatchKind.data) add(this.data, path, callback);
    else if (kind === WatchKind.exist) add(this.exist, path, callback);
    else if (kind === WatchKind.child) add(this.child, path, callback);
  }

  /**
   * Removes and returns the callbacks an event triggers (ZKWatchManager.materialize): a
   * callback registered more than once (say as data and child watch) is returned once.
   */
  take(type: number, path: string): Set<WatchCallback> | undefined {
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        return moveInto(this.exist, path, moveInto(this.data, path, undefined));
      case EventType.NodeChildrenChanged:
        return moveInto(this.child, path, undefined);
      case EventType.NodeDeleted:
        return moveInto(this.child, path, moveInto(this.exist, path, moveInto(this.data, path, undefined)));
      default:
        return undefined;
    }
  }

  /** Empties the registry, returning each path with its callbacks (once per path). */
  takeAll(): Map<string, Set<WatchCallback>> {
    const all = new Map<string, Set<WatchCallback>>();
    for (const table of [this.data, this.exist, this.child]) {
      for (const [path, callbacks] of table) {
        const into = all.get(path);
        if (!into) all.set(path, new Set(callbacks));
        else for (const callback of callbacks) into.add(callback);
      }
      table.clear();
    }
    return all;
  }

  /** The watched paths of each kind, for SetWatches after a reconnect. */
  paths(): { data: string[]; exist: string[]; child: string[] } {
    return { data: [...this.data.keys()], exist: [...this.exist.keys()], child: [...this.child.keys()] };
  }

  get isEmpty(): boolean {
    return this.data.size === 0 && this.exist.size === 0 && this.child.size === 0;
  }

  /** Number of (path, callback) registrations; for tests and metrics. */
  get count(): number {
    let count = 0;
    for (const table of [this.data, this.exist, this.child]) for (const callbacks of table.values()) count += callbacks.size;
    return count;
  }
}
