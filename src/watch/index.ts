export { WatchManager, WatchMode } from './manager.js';
export type { Watcher } from './manager.js';
