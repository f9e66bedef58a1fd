/**
 * Watches as ZooKeeper keeps them: a data table and a child table, each from path to
 * watchers and back, so that a closing connection drops all of its watches at once. A
 * watch has a mode: standard (one-shot), persistent, or persistent-recursive (data table
 * only; it fires for the whole subtree and never with NodeChildrenChanged). As in ZooKeeper
 * 3.9, one watcher may hold several modes on one path.
 */
import { EventType, WatcherType } from '../jute/index.js';
import type { ACL } from '../jute/index.js';
import { parentOf } from '../tree/paths.js';

/** Whoever gets the events: in the server, a connection's session. */
export interface Watcher {
  deliver(type: EventType, path: string): void;
  /**
   * Whether this watcher may hear of a change to a node with this ACL (READ on it). Without
   * it every event is delivered. ZooKeeper's fix of CVE-2024-23944 filters events so.
   */
  mayRead?(acl: readonly ACL[]): boolean;
}

export const WatchMode = { standard: 1, persistent: 2, recursive: 4 } as const;
type ModeBits = number;

class WatchTable {
  private readonly byPath = new Map<string, Map<Watcher, ModeBits>>();
  private readonly byWatcher = new Map<Watcher, Set<string>>();
  recursiveCount = 0;

  add(path: string, watcher: Watcher, mode: number): void {
    let watchers = this.byPath.get(path);
    if (!watchers) this.byPath.set(path, (watchers = new Map()));
    const before = watchers.get(watcher) ?? 0;
    if ((before & WatchMode.recursive) === 0 && (mode & WatchMode.recursive) !== 0) this.recursiveCount++;
    watchers.set(watcher, before | mode);
    let paths = this.byWatcher.get(watcher);
    if (!paths) this.byWatcher.set(watcher, (paths = new Set()));
    paths.add(path);
  }

  has(path: string, watcher: Watcher, mode: number): boolean {
    return ((this.byPath.get(path)?.get(watcher) ?? 0) & mode) !== 0;
  }

  /** Drops `mode` bits of one watch; true when the watcher held any of them. */
  remove(path: string, watcher: Watcher, mode: number): boolean {
    const watchers = this.byPath.get(path);
    const bits = watchers?.get(watcher) ?? 0;
    if ((bits & mode) === 0) return false;
    if ((bits & mode & WatchMode.recursive) !== 0) this.recursiveCount--;
    const left = bits & ~mode;
    if (left !== 0) {
      watchers!.set(watcher, left);
      return true;
    }
    watchers!.delete(watcher);
    if (watchers!.size === 0) this.byPath.delete(path);
    const paths = this.byWatcher.get(watcher);
    paths?.delete(path);
    if (paths?.size === 0) this.byWatcher.delete(watcher);
    return true;
  }

  /**
   * The watchers an event on `path` reaches: watches on the path itself (standard ones are
   * used up), and recursive watches on the path and its ancestors unless the event is
   * NodeChildrenChanged.
   */
  collect(type: EventType, path: string, into: Set<Watcher>): void {
    const watchers = this.byPath.get(path);
    if (watchers) {
      for (const [watcher, bits] of watchers) {
        const recursiveHit = (bits & WatchMode.recursive) !== 0 && type !== EventType.NodeChildrenChanged;
        if ((bits & (WatchMode.standard | WatchMode.persistent)) !== 0 || recursiveHit) into.add(watcher);
        if ((bits & WatchMode.standard) !== 0) this.remove(path, watcher, WatchMode.standard);
      }
    }
    if (this.recursiveCount === 0 || type === EventType.NodeChildrenChanged) return;
    for (let ancestor = parentOf(path); ancestor !== ''; ancestor = parentOf(ancestor)) {
      const above = this.byPath.get(ancestor);
      if (!above) continue;
      for (const [watcher, bits] of above) if ((bits & WatchMode.recursive) !== 0) into.add(watcher);
    }
  }

  removeWatcher(watcher: Watcher): void {
    for (const path of [...(this.byWatcher.get(watcher) ?? [])]) this.remove(path, watcher, WatchMode.standard | WatchMode.persistent | WatchMode.recursive);
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

  watchersOf(path: string): Iterable<Watcher> {
    return this.byPath.get(path)?.keys() ?? [];
  }

  paths(): Iterable<string> {
    return this.byPath.keys();
  }

  watchers(): Iterable<Watcher> {
    return this.byWatcher.keys();
  }
}

export class WatchManager {
  private readonly data = new WatchTable();
  private readonly child = new WatchTable();

  addDataWatch(path: string, watcher: Watcher): void {
    this.data.add(path, watcher, WatchMode.standard);
  }

  addChildWatch(path: string, watcher: Watcher): void {
    this.child.add(path, watcher, WatchMode.standard);
  }

  /** addWatch: persistent watches go in both tables, recursive ones in the data table only. */
  addPersistentWatch(path: string, watcher: Watcher, recursive: boolean): void {
    if (recursive) {
      this.data.add(path, watcher, WatchMode.recursive);
      return;
    }
    this.data.add(path, watcher, WatchMode.persistent);
    this.child.add(path, watcher, WatchMode.persistent);
  }

  hasDataWatch(path: string, watcher: Watcher): boolean {
    return this.data.has(path, watcher, WatchMode.standard);
  }

  hasChildWatch(path: string, watcher: Watcher): boolean {
    return this.child.has(path, watcher, WatchMode.standard);
  }

  /** checkWatches (and removeWatches when `remove`) for a WatcherType, as ZooKeeper's DataTree. */
  private byType(path: string, type: number, watcher: Watcher, remove: boolean): boolean {
    const act = (table: WatchTable, mode: number) => (remove ? table.remove(path, watcher, mode) : table.has(path, watcher, mode));
    switch (type) {
      case WatcherType.Children:
        return act(this.child, WatchMode.standard);
      case WatcherType.Data:
        return act(this.data, WatchMode.standard);
      case WatcherType.Any: {
        // Any covers every mode, as ZooKeeper's DataTree.removeWatch with a null mode.
        const all = WatchMode.standard | WatchMode.persistent | WatchMode.recursive;
        const child = act(this.child, all);
        const data = act(this.data, all);
        return child || data;
      }
      case WatcherType.Persistent: {
        const child = act(this.child, WatchMode.persistent);
        const data = act(this.data, WatchMode.persistent);
        return child || data;
      }
      case WatcherType.PersistentRecursive:
        return act(this.data, WatchMode.recursive);
      default:
        return false;
    }
  }

  containsWatch(path: string, type: number, watcher: Watcher): boolean {
    return this.byType(path, type, watcher, false);
  }

  removeWatch(path: string, type: number, watcher: Watcher): boolean {
    return this.byType(path, type, watcher, true);
  }

  /**
   * Fires the watches an event triggers. A watcher hears each event once, even when it holds
   * several watches that it reaches (a data and a child watch on a deleted node, say).
   */
  trigger(type: EventType, path: string, acl?: readonly ACL[]): number {
    const fired = new Set<Watcher>();
    switch (type) {
      case EventType.NodeCreated:
      case EventType.NodeDataChanged:
        this.data.collect(type, path, fired);
        break;
      case EventType.NodeChildrenChanged:
        this.child.collect(type, path, fired);
        break;
      case EventType.NodeDeleted:
        this.data.collect(type, path, fired);
        this.child.collect(type, path, fired);
        break;
      default:
        return 0;
    }
    // The watches are used up either way; only those who may read the node hear of it.
    for (const watcher of fired) if (!acl || !watcher.mayRead || watcher.mayRead(acl)) watcher.deliver(type, path);
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

  /** Every watched path with its watchers (wchp). */
  byPath(): Map<string, Set<Watcher>> {
    const result = new Map<string, Set<Watcher>>();
    for (const table of [this.data, this.child]) {
      for (const path of table.paths()) {
        let set = result.get(path);
        if (!set) result.set(path, (set = new Set()));
        for (const watcher of table.watchersOf(path)) set.add(watcher);
      }
    }
    return result;
  }

  /** Every watcher with its watched paths (wchc). */
  byWatcher(): Map<Watcher, Set<string>> {
    const result = new Map<Watcher, Set<string>>();
    for (const table of [this.data, this.child]) {
      for (const watcher of table.watchers()) {
        let set = result.get(watcher);
        if (!set) result.set(watcher, (set = new Set()));
        for (const path of table.pathsOf(watcher)) set.add(path);
      }
    }
    return result;
  }
}
