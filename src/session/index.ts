export {
  SessionTracker,
  sessionPassword,
  checkSessionPassword,
  initialSessionId,
  SESSION_PASSWORD_BYTES,
} from './tracker.js';
export type { SessionInfo } from './tracker.js';
