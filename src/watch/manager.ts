/**
 * One-shot data and child watches, as ZooKeeper's WatchManager keeps them: a table from
 * path to watchers and back, so that a closing connection drops all of its watches at once.
 */
import { EventType } from '../jute/index.js';

/** Whoever gets the events: in the server, a connection's session. */
export interface Watcher {
  deliver(type: EventType, path: string): void;
}

class WatchTable {
  private readonly byPath = new Map<string, Set<Watcher>>();
  private readonly byWatcher = new Map<Watcher, Set<string>>();

  add(path: string, watcher: Watcher): void {
    let watchers = this.byPath.get(path);
    if (!watchers) this.byPath.set(path, (watchers = new Set()));
    watchers.add(watcher);
    let paths = this.byWatcher.get(watcher);
    if (!paths) this.byWatcher.set(watcher, (paths = new Set()));
    paths.add(path);
  }

  /** Removes and returns the watchers of `path` (one-shot semantics). */
  take(path: string): Set<Watcher> | undefined {
    const watchers = this.byPath.get(path);
    if (!watchers) return undefined;
    this.byPath.delete(path);
    for (const watcher of watchers) {
      const paths = this.byWatcher.get(watcher);
      paths?.delete(path);
      if (paths?.size === 0) this.byWatcher.delete(watcher);
    }
    return watchers;
  }

  removeWatcher(watcher: Watcher): void {
    const paths = this.byWatcher.get(watcher);
    if (!paths) return;
    this.byWatcher.delete(watcher);
    for (const path of paths) {
      const watchers = this.byPath.get(path);
      watchers?.delete(watcher);
      if (watchers?.size === 0) this.byPath.delete(path);
    }
  }

  has(path: string, watcher: Watcher): boolean {
    return this.byPath.get(path)?.has(watcher) ?? false;
  }

  get count(): number {
    let count = 0;
    for (const watchers of this.byPath.values()) count += watchers.size;
    return count;
  }

  get pathCount(): number {
    return this.byPath.size;
  }

  pathsOf(watcher: Watcher): ReadonlySet<string> {
    return this.byWatcher.get(watcher) ?? new Set();
  }

  entries(): IterableIterator<[string, Set<Watcher>]> {
    return this.byPath.entries();
  }
}

export class WatchManager {
  private readonly data = new WatchTable();
  private readonly child = new WatchTable();

  addDataWatch(path: string, watcher: Watcher): void {
    this.data.add(path, watcher);
  }

  addChildWatch(path: string, watcher: Watcher): void {
    this.child.add(path, watcher);
  }

  hasDataWatch(path: string, watcher: Watcher): boolean {
    return this.data.has(path, watcher);
  }

  hasChildWatch(path: string, watcher: Watcher): boolean {
    return this.child.has(path, watcher);
  }

  /**
   * Fires the watches an event triggers. A watcher with both a data and a child watch on a
   * deleted node hears NodeDeleted once, as in ZooKeeper.
   */
  trigger(type: EventType, path: string): number {
    let fired: Set<Watcher> | undefined;
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        fired = this.data.take(path);
        break;
      case EventType.NodeChildrenChanged:
        fired = this.child.take(path);
        break;
      case EventType.NodeDeleted: {
        const dataWatchers = this.data.take(path);
        const childWatchers = this.child.take(path);
        fired = dataWatchers ?? childWatchers;
        if (dataWatchers && childWatchers) for (const watcher of childWatchers) dataWatchers.add(watcher);
        break;
      }
      default:
        return 0;
    }
    if (!fired) return 0;
    for (const watcher of fired) watcher.deliver(type, path);
    return fired.size;
  }

  removeWatcher(watcher: Watcher): void {
    this.data.removeWatcher(watcher);
    this.child.removeWatcher(watcher);
  }

  get watchCount(): number {
    return this.data.count + this.child.count;
  }

  get pathCount(): number {
    return this.data.pathCount + this.child.pathCount;
  }

  dataPathsOf(watcher: Watcher): ReadonlySet<string> {
    return this.data.pathsOf(watcher);
  }

  childPathsOf(watcher: Watcher): ReadonlySet<string> {
    return this.child.pathsOf(watcher);
  }
}
