import type { Options } from 'tsup';

export function library(options: Options): ReturnType<typeof import('tsup').defineConfig>;
