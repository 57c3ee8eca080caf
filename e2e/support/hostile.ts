// Hostile text for the fuzz specs (10.6): NUL, 100 kB, `../`, shell that would create `pwned` if it ran, negative and
// huge numbers, markup, a right-to-left override, a cron with seconds, an unknown time zone.
export function hostileText(pwned: string): string[] {
  return [
    '\0',
    'a'.repeat(100_000),
    '../../../../etc/passwd',
    `$(touch ${pwned})`,
    `\`touch ${pwned}\`; rm -rf /`,
    '-1',
    '99999999999999999999999',
    '1e309',
    '<script>alert(1)</script>',
    '\u202egpj.exe',
    '* * * * * *',
    'Mars/Olympus',
  ];
}
