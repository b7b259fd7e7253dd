import { describe, expect, it } from 'vitest';
import { escapeControlChars, table } from './format';

const HOSTILE = 'run\u001b[2J\u001b[H\u001b]0;owned\u0007\u009b31m\r\u0000\u007f';

describe('escapeControlChars', () => {
  it('makes every C0 (but tab and newline), DEL and C1 control visible, and nothing else', () => {
    expect(escapeControlChars(HOSTILE)).toBe('run\\u001b[2J\\u001b[H\\u001b]0;owned\\u0007\\u009b31m\\u000d\\u0000\\u007f');
    const all = Array.from({ length: 0x100 }, (_, i) => String.fromCharCode(i)).join('');
    // eslint-disable-next-line no-control-regex
    expect(escapeControlChars(all)).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/);
    expect(escapeControlChars('layer "rnn"\n\tü ✖ 😀 ‖g‖')).toBe('layer "rnn"\n\tü ✖ 😀 ‖g‖');
    expect(escapeControlChars(escapeControlChars(HOSTILE))).toBe(escapeControlChars(HOSTILE));
  });

  it('table() escapes its cells, so the columns still line up', () => {
    const t = table(['', 'A'], [['run', HOSTILE], ['steps', 3]]);
    expect(t).not.toContain('\u001b');
    const lines = t.split('\n');
    expect(lines[1]!.indexOf('run\\u001b')).toBe(lines[0]!.indexOf('A'));
  });
});
