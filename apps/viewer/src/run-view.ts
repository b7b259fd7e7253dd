import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { RunLog } from '@gradguard/core/run-log';
import { type ChartData, type LayerPictures, type RunCharts, diagnosesHtml, mountLayerPictures, mountRunCharts, summaryRows } from '@gradguard/reporter';
import { h } from './dom';

/** Markup from @gradguard/reporter (which escapes every run-log text in it) as one element. */
function fromHtml(html: string): HTMLElement {
  const t = document.createElement('template');
  t.innerHTML = html;
  return t.content.firstElementChild as HTMLElement;
}

/** The diagnoses of a run, newest last, in the HTML report's markup; a plain "no problems" line when there are none. */
export function diagnosisList(log: RunLog): HTMLElement {
  return fromHtml(diagnosesHtml(log.diagnoses));
}

/**
 * The reporter's run charts and layer pictures (those of its HTML report: loss, global norm, per-layer norms, clip
 * scale and learning rate; the layer × step heatmap and the bars at the first diagnosis) in `root`: mounted with the
 * first data, updated in place after (live training calls this every step).
 */
export function runChartsIn(root: HTMLElement): (data: ChartData) => void {
  let charts: RunCharts | undefined;
  let pictures: LayerPictures | undefined;
  return (data) => {
    if (charts && pictures) {
      charts.update(data);
      pictures.update(data);
    } else {
      charts = mountRunCharts(root, data, uPlot);
      pictures = mountLayerPictures(root, data);
    }
  };
}

/** Key facts of a run (the HTML report's summary rows), each row keyed by `data-key`. */
export function summaryTable(log: RunLog): HTMLTableElement {
  return h(
    'table',
    { class: 'kv', 'data-testid': 'summary' },
    ...summaryRows(log).map(([k, v]) => h('tr', { 'data-key': k }, h('th', {}, k), h('td', {}, v))),
  );
}
