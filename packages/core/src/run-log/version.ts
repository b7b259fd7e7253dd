/**
 * Version of the run-log format. Bump on any change a reader of the previous version would misread or reject record
 * by record; readers accept every version up to their own. Adding an optional field is not such a change (readers drop
 * keys they do not know); a new problem name is (a version-1 reader's enum rejects `saturation` and `clip-starvation`
 * diagnoses): version 2, core 0.2. Version-1 logs stay readable.
 * Every field is documented in packages/core/docs/run-log.md.
 * (Its own file, free of the validator, so that writers and the root entry can name it without loading zod.)
 */
export const RUN_LOG_VERSION = 2;
