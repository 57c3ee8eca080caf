export function ensurePackages(packages: string[], binaries: string[], what: string): void;
export function freePort(): Promise<number>;
export function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void>;
export function listening(port: number): Promise<boolean>;
export function killStarted(marker: string, pids?: number[]): void;
