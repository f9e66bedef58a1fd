export { WatchManager } from './manager.js';
export type { Watcher } from './manager.js';
