import type { NextConfig } from 'next';

const nextConfig: NextConfig = {
  // Native modules load from node_modules at run time instead of being bundled.
  serverExternalPackages: ['better-sqlite3', 'zstd-napi'],
  poweredByHeader: false,
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
