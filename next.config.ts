import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Native modules, and etcd's client (it reads its .proto files from its package at run time), load from
  // node_modules at run time instead of being bundled.
  serverExternalPackages: ['better-sqlite3', 'zstd-napi', 'etcd3'],
  poweredByHeader: false,
  // npm test checks the types (tsc --noEmit) before it builds the app: the build need not check them again.
  typescript: { ignoreBuildErrors: process.env.LIFELINE_TYPES_CHECKED === '1' },
  // Static files too (the proxy sets these and the policy on everything else: lib/http-security.ts).
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
          { key: 'X-Frame-Options', value: 'DENY' },
        ],
      },
    ];
  },
};

export default nextConfig;
