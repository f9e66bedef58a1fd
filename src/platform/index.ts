/**
 * The seams between Paddock and the machine it runs on: time, timers, the network and
 * randomness. Production uses Node's (`nodePlatform`); the deterministic simulator
 * (test/sim) puts one virtual clock, one event queue, a simulated network and one seeded
 * PRNG behind the same interfaces, so whole ensembles and their clients run inside one
 * process and a seed replays exactly. The disk seam is storage's FileSystem.
 */
export type { Platform, Clock, Timers, TimerHandle, Network, Listener, StreamSocket } from './platform.js';
export { nodePlatform } from './node.js';
export { mutations, resetMutations } from './mutations.js';
export type { Mutations } from './mutations.js';
