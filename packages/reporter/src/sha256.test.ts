import { createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { sha256Base64 } from './sha256';

describe('sha256Base64', () => {
  it('matches node:crypto on the FIPS test vectors, every padding length, and non-ASCII text', () => {
    const node = (s: string): string => createHash('sha256').update(s, 'utf8').digest('base64');
    expect(sha256Base64('abc')).toBe('ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=');
    expect(sha256Base64('')).toBe(node(''));
    for (let n = 0; n < 200; n++) {
      const s = randomBytes(n).toString('latin1');
      expect(sha256Base64(s), `length ${n}`).toBe(node(s));
    }
    const text = `‖g‖ 𝛁 ${'é'.repeat(70_000)}`;
    expect(sha256Base64(text)).toBe(node(text));
  });
});
