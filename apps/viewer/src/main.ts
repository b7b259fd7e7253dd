import { mountLivePanel } from './live-panel';
import { mountRunsPanel } from './runs-panel';
import './styles.css';

const tabs = [...document.querySelectorAll<HTMLButtonElement>('nav [role=tab]')];
const select = (tab: HTMLButtonElement): void => {
  for (const t of tabs) {
    const on = t === tab;
    t.setAttribute('aria-selected', String(on));
    document.getElementById(t.getAttribute('aria-controls')!)!.hidden = !on;
  }
  // uPlot sizes its canvas from the container, which has no width while hidden.
  window.dispatchEvent(new Event('resize'));
};
for (const t of tabs) t.addEventListener('click', () => select(t));
if (location.hash === '#live') select(document.getElementById('tab-live') as HTMLButtonElement);

const runs = mountRunsPanel(document.getElementById('panel-runs')!);
mountLivePanel(document.getElementById('panel-live')!, (files) => {
  select(document.getElementById('tab-runs') as HTMLButtonElement);
  void runs.open(files);
});
