// Class names for the component kit (components/ui): joined, with later Tailwind classes winning over earlier ones
// of the same property, so that a caller's className overrides a variant's.
import { type ClassValue, clsx } from 'clsx';
import { twMerge } from 'tailwind-merge';

export function cn(...inputs: ClassValue[]): string {
  return twMerge(clsx(inputs));
}
