// Downloads the recovery kit: administrators only, and only until it has been acknowledged.
import { currentUser } from '@/lib/auth/session';
import { can } from '@/lib/auth/roles';
import { audit } from '@/lib/control/audit';
import { recoveryKitText } from '@/lib/control/recovery-kit';

export async function GET() {
  const user = await currentUser();
  if (!user || !can(user.role, 'configure')) return Response.json({ error: 'administrators only' }, { status: 403 });
  const text = recoveryKitText();
  if (!text)
    return Response.json({ error: 'the recovery kit was saved already and is not shown again' }, { status: 410 });
  audit({ username: user.username, action: 'download recovery kit', ok: true });
  return new Response(text, {
    headers: {
      'Content-Type': 'text/plain; charset=utf-8',
      'Content-Disposition': 'attachment; filename="lifeline-recovery-kit.txt"',
      'Cache-Control': 'no-store',
    },
  });
}
