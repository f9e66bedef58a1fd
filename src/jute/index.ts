export { JuteReader, JuteDecodeError } from './reader.js';
export { JuteWriter } from './writer.js';
export * from './codes.js';
export * from './records.js';
