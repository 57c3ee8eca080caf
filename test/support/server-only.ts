// Stands in for the `server-only` marker package in vitest, which runs control-plane modules outside Next.js.
export {};
