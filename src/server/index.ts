export { PaddockServer, readMyId } from './server.js';
export type { ServerOptions } from './server.js';
export { buildConfig, loadConfigFile, parseProperties, jvmFlagProperties, EMBEDDED_CONFIG, ConfigError } from './config.js';
export type { ServerConfig, ServerSpec } from './config.js';
export { STATIC_CONFIG_VERSION, quorumConfigText } from './quorum-config.js';
export { createLogger, silentLogger } from './log.js';
export type { Logger } from './log.js';
