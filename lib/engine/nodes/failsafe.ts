// The failsafe question a primary whose lease is running out asks its peers: "have you heard from the control
// plane lately?" Only if every peer answers, and none has, is the control plane down for everyone (so nobody can
// be promoted and the primary may serve on a little longer: primary-lease.ts); any peer that hears it, or cannot
// be asked, means this node may be cut off alone, and the answer extends nothing.
import { signedFetch } from './signed-request';

/** Asks every member the failsafe question (`body`, signed with the group key) at once; confirmed only if every
 *  one answers 200 and `confirms` its answer. A member that cannot be asked confirms nothing. Each member that did
 *  not confirm is named with why (its answer, its status, or the error), for the log. */
async function allConfirm(
  self: string,
  groupKey: string,
  members: { url: string }[],
  body: Record<string, unknown>,
  timeoutMs: number,
  confirms: (answer: Record<string, unknown>) => boolean,
): Promise<{ confirmed: boolean; refusals: string[] }> {
  // Nobody to confirm it: a group has two members at least, so an empty list is a stale view, not proof.
  if (members.length === 0) return { confirmed: false, refusals: ['no member to ask'] };
  const refusals = await Promise.all(
    members.map(async (member): Promise<string | null> => {
      try {
        const res = await signedFetch({ nodeId: self, secret: groupKey }, member.url, 'POST', '/v1/failsafe', {
          body: JSON.stringify(body),
          timeoutMs,
        });
        if (res.status !== 200) return `${member.url} answered ${res.status}`;
        const answer = JSON.parse(res.body.toString('utf8')) as Record<string, unknown>;
        return confirms(answer) ? null : `${member.url} answered ${JSON.stringify(answer)}`;
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        return `${member.url}: ${e.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (e.cause?.code ?? e.message)}`;
      }
    }),
  );
  const named = refusals.filter((r): r is string => r !== null);
  return { confirmed: named.length === 0, refusals: named };
}

/** On etcd (13.4, Patroni's failsafe): a primary that cannot reach etcd asks every other member whether it is
 *  primary. Only if each answers, and none is, may it serve on for `extensionMs` from the question's send time;
 *  each member that said no promises not to serve for that long after its answer (Agent.failsafeAnswerOnEtcd). */
export function membersConfirmNotPrimary(
  self: string,
  groupKey: string,
  members: { url: string }[],
  extensionMs: number,
  timeoutMs: number,
): Promise<{ confirmed: boolean; refusals: string[] }> {
  return allConfirm(self, groupKey, members, { etcd: true, extensionMs }, timeoutMs, (a) => a.primary === false);
}

export function peersConfirmOutage(
  self: string,
  groupKey: string,
  peers: { url: string }[],
  leaseMs: number,
  timeoutMs: number,
): Promise<boolean> {
  return allConfirm(
    self,
    groupKey,
    peers,
    { leaseMs },
    timeoutMs,
    (a) => (a.heardControlPlaneMsAgo as number) > leaseMs / 2,
  ).then((r) => r.confirmed);
}
