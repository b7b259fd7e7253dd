// Loaded with `node --import ./trace-imports.mjs`: appends the URL of every module the ESM loader resolves to the file
// named by GRADGUARD_TRACE_IMPORTS, one per line, so a test can tell which packages a command loaded.
import { register } from 'node:module';
import process from 'node:process';

register('./trace-imports-hooks.mjs', import.meta.url, { data: { file: process.env.GRADGUARD_TRACE_IMPORTS } });
