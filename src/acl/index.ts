export { fixupAcl, validId, digestId } from './acl.js';
