/**
 * Version of the run-log format. Bump on any change a reader of the previous version would misread;
 * readers accept every version up to their own. Adding an optional field is not such a change (readers drop keys
 * they do not know), so the weight, update, histogram and recurrent fields of core 0.2 kept version 1.
 * Every field is documented in packages/core/docs/run-log.md.
 * (Its own file, free of the validator, so that writers and the root entry can name it without loading zod.)
 */
export const RUN_LOG_VERSION = 1;
