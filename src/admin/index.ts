export { FOUR_LETTER_WORDS, runFourLetterWord, VERSION_STRING, ZOOKEEPER_VERSION, PADDOCK_VERSION } from './fourletter.js';
export type { ServerView, ClientView } from './fourletter.js';
