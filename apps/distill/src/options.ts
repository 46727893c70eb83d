// Parsers for numeric flags: commander hands strings; a bad number is named with its flag.
import { InvalidArgumentError } from 'commander';

export function integerOption(flag: string, { min = 0 }: { min?: number } = {}) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isInteger(parsed) || parsed < min) throw new InvalidArgumentError(`${flag} takes a whole number ≥ ${min}, got "${value}"`);
    return parsed;
  };
}

export function numberOption(flag: string) {
  return (value: string): number => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed)) throw new InvalidArgumentError(`${flag} takes a number, got "${value}"`);
    return parsed;
  };
}
