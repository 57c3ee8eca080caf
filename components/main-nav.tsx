'use client';

// The console's navigation: every page the user may open, the current one marked (aria-current); on a narrow
// screen the links fold under a Menu button, which opens and closes them.
import Link from 'next/link';
import { usePathname } from 'next/navigation';
import { type ReactNode, useState } from 'react';

import { cn } from '@/lib/utils';

import { Button } from './ui/button';

/** Whether `href` is the page at `path`, or a section it opens (Overview only for itself). */
function isCurrent(href: string, path: string): boolean {
  return href === '/' ? path === '/' : path === href || path.startsWith(`${href}/`);
}

export function MainNav({ pages, end }: { pages: { href: string; label: string }[]; end: ReactNode }) {
  const path = usePathname();
  const [open, setOpen] = useState(false);
  return (
    <nav aria-label="Main" className="mx-auto max-w-6xl px-4 py-2 sm:px-6">
      <div className="flex items-center gap-3">
        <Link href="/" className="py-1 font-semibold">
          Lifeline
        </Link>
        <Button
          variant="outline"
          size="sm"
          aria-expanded={open}
          aria-controls="main-nav-links"
          onClick={() => setOpen((o) => !o)}
          className="ml-auto lg:hidden"
        >
          Menu
        </Button>
        <div
          id="main-nav-links"
          className={cn(
            'absolute inset-x-0 top-12 z-40 flex-col gap-1 border-b border-border bg-card px-4 pb-3 shadow-sm lg:static lg:z-auto lg:flex lg:flex-1 lg:flex-row lg:items-center lg:gap-1 lg:border-0 lg:bg-transparent lg:p-0 lg:shadow-none',
            open ? 'flex' : 'hidden',
          )}
        >
          {pages.map(({ href, label }) => {
            const current = isCurrent(href, path);
            return (
              <Link
                key={href}
                href={href}
                aria-current={current ? 'page' : undefined}
                onClick={() => setOpen(false)}
                className={cn(
                  'rounded-md px-2 py-1.5 text-sm hover:bg-muted',
                  current ? 'bg-muted font-medium text-foreground' : 'text-muted-foreground',
                )}
              >
                {label}
              </Link>
            );
          })}
          <div className="flex items-center gap-3 pt-2 lg:ml-auto lg:pt-0">{end}</div>
        </div>
      </div>
    </nav>
  );
}
