/** A throw-away radosgw (radosgw.mjs): where it keeps its state, its endpoint and an S3 user's keys. */
export interface RadosgwServer {
  dir: string;
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

export function ensureCeph(): void;
export function startRadosgw(dir?: string): Promise<RadosgwServer>;
export function stopRadosgw(dir?: string): void;
