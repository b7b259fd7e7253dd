// `node --import gradguard/register train.js`: guards every optimizer the unmodified script trains with (see
// run-script/hook.ts); `gradguard run train.js` starts the script this way with its flags in GRADGUARD_RUN.
import { SETTINGS_ENV, instrumentScript, readSettings } from './run-script/hook';

try {
  await instrumentScript(process.argv[1], readSettings(process.env[SETTINGS_ENV]));
} catch (e) {
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(2);
}
