/** One member of a throw-away etcd (etcd.mjs). */
export interface EtcdMember {
  name: string;
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
  pid: number;
}

/** A throw-away etcd (etcd.mjs): its directory, the --initial-cluster string, and its members. */
export interface EtcdServer {
  dir: string;
  cluster: string;
  endpoints: string[];
  members: EtcdMember[];
}

export function ensureEtcd(): void;
export function startEtcd(dir?: string, members?: number): Promise<EtcdServer>;
export function killMember(server: EtcdServer, name: string): void;
export function restartMember(server: EtcdServer, name: string): Promise<void>;
export function stopEtcd(dir?: string): void;
