import { describe, expect, it } from 'vitest';
import { diagnosesHtml, diagnosisHtml } from './diagnosis-html';
import { diagnosisOf } from './test-runs';

describe('diagnosisHtml', () => {
  it('writes a diagnosis with its layer and advice as one list item, run-log text escaped', () => {
    const d = { ...diagnosisOf(7, 'critical', 'onset'), layer: 'rnn<1>', message: 'Norm 2048 > 1000 & rising.', advice: [{ remedy: 'clipByGlobalNorm' as const, detail: 'Clip to 1 <before> the "update".' }] };
    expect(diagnosisHtml(d)).toBe(
      '<li class="diag critical" data-testid="diagnosis" data-problem="exploding-gradient" data-severity="critical">' +
        '<div class="head"><span class="sev">critical</span> step 7 · <b>exploding-gradient</b> in layer <code data-testid="diagnosis-layer">rnn&lt;1&gt;</code> (onset)</div>' +
        '<div class="msg">Norm 2048 &gt; 1000 &amp; rising.</div>' +
        '<ul class="advice"><li><code>clipByGlobalNorm</code> Clip to 1 &lt;before&gt; the &quot;update&quot;.</li></ul></li>',
    );
  });

  it('leaves out the layer and the advice list when a diagnosis has none', () => {
    const { layer: _layer, ...d } = { ...diagnosisOf(3, 'info', 'recovery'), advice: [] };
    const html = diagnosisHtml(d);
    expect(html).toContain('step 3 · <b>exploding-gradient</b> (recovery)</div>');
    expect(html).not.toContain('in layer');
    expect(html).not.toContain('<ul');
  });

  it('lists diagnoses in order, or says there were none', () => {
    const list = diagnosesHtml([diagnosisOf(1, 'warning', 'onset'), diagnosisOf(4, 'critical', 'escalation')]);
    expect(list.startsWith('<ul class="diags"><li class="diag warning"')).toBe(true);
    expect(list.match(/step \d+ ·/g)).toEqual(['step 1 ·', 'step 4 ·']);
    expect(diagnosesHtml([])).toBe('<p class="ok" data-testid="no-diagnoses">No problems were diagnosed in this run.</p>');
  });
});
