// The failover group's shared key, which peers use to sign failsafe questions to each other. The control
// plane sends it to each node sealed with that node's own secret, so it never travels in clear.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

function wrapKey(nodeSecret: string): Buffer {
  return createHmac('sha256', Buffer.from(nodeSecret, 'hex')).update('lifeline group key').digest();
}

export function sealGroupKey(nodeSecret: string, groupKey: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', wrapKey(nodeSecret), iv);
  const sealed = Buffer.concat([cipher.update(Buffer.from(groupKey, 'hex')), cipher.final()]);
  return Buffer.concat([iv, sealed, cipher.getAuthTag()]).toString('base64');
}

/** Any short secret (a node's etcd password) sealed the same way, for the node alone to open. */
export function sealForNode(nodeSecret: string, text: string): string {
  return sealGroupKey(nodeSecret, Buffer.from(text, 'utf8').toString('hex'));
}

export function openForNode(nodeSecret: string, sealed: string): string {
  return Buffer.from(openGroupKey(nodeSecret, sealed), 'hex').toString('utf8');
}

export function openGroupKey(nodeSecret: string, sealed: string): string {
  const bytes = Buffer.from(sealed, 'base64');
  const decipher = createDecipheriv('aes-256-gcm', wrapKey(nodeSecret), bytes.subarray(0, 12));
  decipher.setAuthTag(bytes.subarray(bytes.length - 16));
  return Buffer.concat([decipher.update(bytes.subarray(12, bytes.length - 16)), decipher.final()]).toString('hex');
}
