import { caseLearningRate } from './build';
import type { Case, CaseActivation, CaseChange, CaseData, CaseLayer } from './case';

const WEIGHTED = new Set(['dense', 'lstm', 'gru', 'simpleRNN']);

/** Indices of the layers with weights and an activation, except the output layer (the last such). */
function hiddenLayers(layers: readonly CaseLayer[]): number[] {
  const weighted = layers.flatMap((l, i) => (WEIGHTED.has(l.type) ? [i] : []));
  return weighted.slice(0, -1);
}

function activationOf(l: CaseLayer): CaseActivation | undefined {
  if (l.type === 'dense') return l.activation ?? 'linear';
  if (l.type === 'lstm' || l.type === 'gru' || l.type === 'simpleRNN') return l.activation ?? 'tanh';
  return undefined;
}

function normalized(d: CaseData): CaseData | undefined {
  switch (d.kind) {
    case 'regression':
      return d.standardizeTargets ? undefined : { ...d, standardizeTargets: true };
    case 'power':
      return d.scaled ? undefined : { ...d, scaled: true };
    case 'housing':
      return d.normalized ? undefined : { ...d, normalized: true };
    case 'circles':
      return d.minMaxScale === false ? { ...d, minMaxScale: true } : undefined;
    default:
      return undefined;
  }
}

/**
 * The case with one change applied, as new data (the input is not modified), or undefined when the change does not
 * apply (nothing to change: the data is already normalized, no hidden layer has that activation, …). The changed case
 * keeps its name and ground truth; only what it trains differs.
 */
export function applyChange<C extends Case>(c: C, change: CaseChange): C | undefined {
  const hidden = hiddenLayers(c.layers);
  switch (change.kind) {
    case 'optimizer':
      return JSON.stringify(change.optimizer) === JSON.stringify(c.optimizer) ? undefined : { ...c, optimizer: change.optimizer };
    case 'learning-rate':
      return { ...c, optimizer: { ...c.optimizer, byName: false, learningRate: caseLearningRate(c.optimizer) * change.factor } };
    case 'clipnorm':
      return { ...c, optimizer: { ...c.optimizer, clipnorm: change.value } };
    case 'clipvalue':
      return { ...c, optimizer: { ...c.optimizer, clipvalue: change.value } };
    case 'activation': {
      const targets = hidden.filter((i) => {
        const a = activationOf(c.layers[i]!);
        return a !== change.to && (change.from === undefined || a === change.from);
      });
      if (targets.length === 0) return undefined;
      const layers = c.layers.map((l, i) =>
        targets.includes(i) ? ({ ...l, activation: change.to, ...(change.initializer ? { kernelInitializer: change.initializer } : {}) } as CaseLayer) : l,
      );
      return { ...c, layers };
    }
    case 'output-activation': {
      const last = c.layers.length - 1;
      const out = c.layers[last]!;
      if ((out.type !== 'dense' && out.type !== 'timeDistributedDense') || (out.activation ?? 'linear') === change.to) return undefined;
      return { ...c, layers: c.layers.map((l, i) => (i === last ? ({ ...l, activation: change.to } as CaseLayer) : l)) };
    }
    case 'initializer': {
      const targets = hidden.filter((i) => JSON.stringify((c.layers[i] as { kernelInitializer?: unknown }).kernelInitializer) !== JSON.stringify(change.initializer));
      if (targets.length === 0) return undefined;
      return { ...c, layers: c.layers.map((l, i) => (targets.includes(i) ? ({ ...l, kernelInitializer: change.initializer } as CaseLayer) : l)) };
    }
    case 'batch-norm': {
      if (hidden.length === 0 || c.layers.some((l) => l.type === 'batchNormalization')) return undefined;
      const layers: CaseLayer[] = [];
      c.layers.forEach((l, i) => {
        layers.push(l);
        if (hidden.includes(i)) layers.push({ type: 'batchNormalization' });
      });
      return { ...c, layers };
    }
    case 'normalize-data': {
      const data = normalized(c.data);
      return data ? { ...c, data } : undefined;
    }
    default:
      return undefined;
  }
}

/** A change in words, e.g. `learning rate ×0.1`. */
export function describeChange(change: CaseChange): string {
  switch (change.kind) {
    case 'optimizer':
      return `optimizer ${change.optimizer.name}${change.optimizer.learningRate !== undefined ? ` (lr ${change.optimizer.learningRate})` : ''}`;
    case 'learning-rate':
      return `learning rate ×${change.factor}`;
    case 'clipnorm':
      return `clipnorm ${change.value}`;
    case 'clipvalue':
      return `clipvalue ${change.value}`;
    case 'activation':
      return `${change.from ?? 'hidden'} → ${change.to}${change.initializer ? ` (${typeof change.initializer === 'string' ? change.initializer : change.initializer.name})` : ''}`;
    case 'output-activation':
      return `output activation → ${change.to}`;
    case 'initializer':
      return `kernels ${typeof change.initializer === 'string' ? change.initializer : change.initializer.name}`;
    case 'batch-norm':
      return 'batch normalization after hidden layers';
    case 'normalize-data':
      return 'normalize the data';
  }
}
