// Watches every source's backup RPO and notifies when one passes its target and when it is back within it.
import 'server-only';

import { notify } from './notify';
import { sourceHealth } from './overview';
import { getSetting, setSetting } from './settings';

const CHECK_EVERY_MS = 60_000;
const holder = globalThis as unknown as { lifelineRpoWatch?: NodeJS.Timeout };

export function startRpoWatch(): void {
  if (holder.lifelineRpoWatch) return;
  holder.lifelineRpoWatch = setInterval(checkRpo, CHECK_EVERY_MS);
  holder.lifelineRpoWatch.unref();
}

/** Notifies on a change between breached and not; the last state notified survives restarts. */
export function checkRpo(): void {
  for (const h of sourceHealth()) {
    if (h.status === 'none') continue;
    const key = `rpo.breached.${h.source.id}`;
    const was = getSetting(key) === 'yes';
    const is = h.status === 'breached';
    if (is === was) continue;
    setSetting(key, is ? 'yes' : 'no');
    if (is)
      notify({
        type: 'rpo-breached',
        source: h.source.name,
        ageMinutes: Math.round((h.ageMs ?? 0) / 60_000),
        targetMinutes: h.plan.rpoTargetMinutes,
      });
    else notify({ type: 'rpo-recovered', source: h.source.name });
  }
}
