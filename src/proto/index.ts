export { FrameDecoder, FrameError } from './framing.js';
