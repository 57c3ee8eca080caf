// Pager: where a long list's page is in the whole, and links to the pages before and after (the server reads the
// page from the address, so a page is a link that can be kept and shared). For lists too long to send whole.
import Link from 'next/link';

import { cn } from '@/lib/utils';

import { buttonVariants } from './button';

export function Pager({
  label,
  page,
  pageSize,
  total,
  href,
  previous = 'Previous',
  next = 'Next',
}: {
  label: string;
  /** What the links say (a list newest first: Newer, Older). */
  previous?: string;
  next?: string;
  /** 0-based. */
  page: number;
  pageSize: number;
  total: number;
  /** The address of page `n` (0-based). */
  href: (n: number) => string;
}) {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  if (pages <= 1) return null;
  const first = page * pageSize + 1;
  const last = Math.min(total, (page + 1) * pageSize);
  const link = (n: number, text: string, disabled: boolean) =>
    disabled ? (
      <span aria-disabled="true" className={cn(buttonVariants({ variant: 'outline', size: 'sm' }), 'opacity-50')}>
        {text}
      </span>
    ) : (
      <Link href={href(n)} className={buttonVariants({ variant: 'outline', size: 'sm' })}>
        {text}
      </Link>
    );
  return (
    <nav aria-label={`${label}: pages`} className="mt-3 flex items-center justify-between gap-3 text-sm">
      <span className="text-muted-foreground">
        {first}–{last} of {total}
      </span>
      <span className="flex gap-2">
        {link(page - 1, previous, page === 0)}
        {link(page + 1, next, page >= pages - 1)}
      </span>
    </nav>
  );
}
