import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Native modules load from node_modules at run time instead of being bundled.
  serverExternalPackages: ['better-sqlite3', 'zstd-napi'],
  poweredByHeader: false,
};

export default nextConfig;
