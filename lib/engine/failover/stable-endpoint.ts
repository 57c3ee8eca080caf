// The stable endpoint: a TCP proxy on a fixed address in front of whichever node is primary. Clients keep one
// address through a failover; connections that arrive while there is no primary wait (up to a limit) instead of
// failing, and switching primaries can cut the connections still open to the old one (fencing at the door).
import net from 'node:net';

export interface Target {
  host: string;
  port: number;
}

export interface EndpointOptions {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** How long a connection may wait for a primary before it is closed. */
  holdMs?: number;
  /** Asked before each part of a response from the primary is passed on (synchronous replication): resolves true
   *  to pass it on, false to cut the connection instead (the primary changed). None: everything passes at once. */
  gate?: () => Promise<boolean> | true;
}

export class StableEndpoint {
  private server: net.Server | null = null;
  private target: Target | null = null;
  private readonly waiting = new Set<{ socket: net.Socket; timer: NodeJS.Timeout }>();
  private readonly open = new Set<{ client: net.Socket; upstream: net.Socket }>();
  private readonly holdMs: number;

  constructor(private readonly options: EndpointOptions = {}) {
    this.holdMs = options.holdMs ?? 10_000;
  }

  async start(): Promise<number> {
    const server = net.createServer((socket) => this.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, this.options.host ?? '127.0.0.1', () => resolve());
    });
    this.server = server;
    return (server.address() as net.AddressInfo).port;
  }

  /** Routes new connections to `target` (null: hold them). With `cutExisting`, connections to the previous
   *  target are closed, so nothing keeps talking to a node that is no longer primary. */
  setTarget(target: Target | null, options: { cutExisting?: boolean } = {}): void {
    this.target = target;
    if (options.cutExisting) {
      for (const pair of this.open) {
        pair.client.destroy();
        pair.upstream.destroy();
      }
      this.open.clear();
    }
    if (target) {
      for (const w of [...this.waiting]) {
        clearTimeout(w.timer);
        this.waiting.delete(w);
        this.connect(w.socket, target);
      }
    }
  }

  currentTarget(): Target | null {
    return this.target;
  }

  async stop(): Promise<void> {
    for (const w of this.waiting) {
      clearTimeout(w.timer);
      w.socket.destroy();
    }
    this.waiting.clear();
    for (const pair of this.open) {
      pair.client.destroy();
      pair.upstream.destroy();
    }
    this.open.clear();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }

  /** Connections waiting for a primary. */
  get heldConnections(): number {
    return this.waiting.size;
  }

  private accept(socket: net.Socket): void {
    socket.on('error', () => socket.destroy());
    if (this.target) {
      this.connect(socket, this.target);
      return;
    }
    socket.pause();
    const entry = { socket, timer: setTimeout(() => this.giveUp(entry), this.holdMs) };
    this.waiting.add(entry);
  }

  private giveUp(entry: { socket: net.Socket; timer: NodeJS.Timeout }): void {
    this.waiting.delete(entry);
    entry.socket.destroy();
  }

  private connect(client: net.Socket, target: Target): void {
    const upstream = net.connect(target.port, target.host);
    const pair = { client, upstream };
    this.open.add(pair);
    const close = () => {
      this.open.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    upstream.on('error', close);
    client.on('close', close);
    client.pipe(upstream);
    const gate = this.options.gate;
    if (!gate) {
      upstream.on('close', close);
      upstream.pipe(client);
    } else {
      // Each part of the response waits for the gate, in order, and the next is read once it has been passed on;
      // the primary's end of the connection (and its close) reach the client only after the parts before it.
      let passed: Promise<boolean> = Promise.resolve(true);
      const passOn = async (chunk: Buffer, open: boolean): Promise<boolean> => {
        if (!open) return false;
        const verdict = gate();
        if (!(verdict === true || (await verdict))) {
          close();
          return false;
        }
        if (!client.write(chunk))
          await new Promise<void>((resolve) => {
            client.once('drain', resolve);
            client.once('close', resolve);
          });
        upstream.resume();
        return true;
      };
      upstream.on('data', (chunk: Buffer) => {
        upstream.pause();
        passed = passed
          .then((open) => passOn(chunk, open))
          .catch(() => {
            close();
            return false;
          });
      });
      upstream.on('end', () => void passed.then((open) => open && client.end()));
      upstream.on(
        'close',
        () =>
          void passed.then(() => {
            this.open.delete(pair);
            client.end();
          }),
      );
    }
    client.resume();
  }
}
