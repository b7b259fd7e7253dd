/** Thrown for a bad option of a builder or task; the message names the value and the allowed range. */
export class ModelOptionError extends Error {
  readonly code = 'INVALID_ARGUMENT';

  constructor(message: string) {
    super(message);
    this.name = 'ModelOptionError';
  }
}

export function checkInt(where: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new ModelOptionError(`${where}: ${name} must be an integer >= ${min}, got ${JSON.stringify(value)}.`);
  }
  return value;
}

export function checkPositive(where: string, name: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new ModelOptionError(`${where}: ${name} must be a number > 0, got ${JSON.stringify(value)}.`);
  }
  return value;
}
