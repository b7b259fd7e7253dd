import { describe, expect, it } from 'vitest';
import { DISPLAY_LIMITS, truncateText } from './limits';

describe('truncateText', () => {
  it('keeps short text, cuts long text with an ellipsis and its length, never halving a surrogate pair', () => {
    expect(truncateText('rnn')).toBe('rnn');
    expect(truncateText('x'.repeat(DISPLAY_LIMITS.maxNameChars))).toBe('x'.repeat(200));
    expect(truncateText('x'.repeat(50_000_000))).toBe(`${'x'.repeat(200)}… (50,000,000 characters)`);
    expect(truncateText(`${'a'.repeat(9)}😀😀`, 10)).toBe(`${'a'.repeat(9)}… (13 characters)`);
    expect(truncateText('abcdef', 3)).toBe('abc… (6 characters)');
  });
});
