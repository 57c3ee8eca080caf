export const HAPROXY: string;
export function ensureHaproxy(): void;
