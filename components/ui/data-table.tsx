'use client';

// DataTable: a list that sorts by a column (a header's button; aria-sort says how) and pages (25 rows at a time by
// default, with where the page is in the whole). Rows come rendered from the server: each cell a node, and for the
// columns that sort, the value to sort by.
import { type ReactNode, useMemo, useState } from 'react';

import { cn } from '@/lib/utils';

import { Button } from './button';
import { Table, TableBody, TableCaption, TableCell, TableHead, TableHeader, TableRow } from './table';

export interface DataColumn {
  header: string;
  /** The header is for assistive technology only (a column of buttons). */
  hidden?: boolean;
  /** Sorts by the row's `sort` value in this column. */
  sortable?: boolean;
  align?: 'left' | 'right';
  className?: string;
}

export interface DataRow {
  key: string;
  cells: ReactNode[];
  /** Per column, what it sorts by (null: last either way). */
  sort?: (string | number | null)[];
}

type Direction = 'ascending' | 'descending';

function compare(a: string | number | null, b: string | number | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b), undefined, { numeric: true, sensitivity: 'base' });
}

export function DataTable({
  label,
  columns,
  rows,
  pageSize = 25,
  initialSort,
  empty = 'Nothing here yet.',
  caption,
  className,
}: {
  /** The table's accessible name. */
  label: string;
  columns: DataColumn[];
  rows: DataRow[];
  pageSize?: number;
  initialSort?: { column: number; direction: Direction };
  empty?: ReactNode;
  caption?: ReactNode;
  className?: string;
}) {
  const [sort, setSort] = useState(initialSort ?? null);
  const [page, setPage] = useState(0);
  const sorted = useMemo(() => {
    if (!sort) return rows;
    const sign = sort.direction === 'ascending' ? 1 : -1;
    return [...rows].sort((a, b) => {
      const x = a.sort?.[sort.column] ?? null;
      const y = b.sort?.[sort.column] ?? null;
      // Nulls last in either direction.
      if (x === null || y === null) return compare(x, y);
      return sign * compare(x, y);
    });
  }, [rows, sort]);
  const pages = Math.max(1, Math.ceil(sorted.length / pageSize));
  const current = Math.min(page, pages - 1);
  const shown = sorted.slice(current * pageSize, (current + 1) * pageSize);
  const toggle = (column: number) => {
    setSort((s) =>
      s?.column === column
        ? { column, direction: s.direction === 'ascending' ? 'descending' : 'ascending' }
        : { column, direction: 'ascending' },
    );
    setPage(0);
  };
  return (
    <div className={className}>
      <Table aria-label={label}>
        {caption ? <TableCaption>{caption}</TableCaption> : null}
        <TableHeader>
          <TableRow>
            {columns.map((c, i) => (
              <TableHead
                key={c.header || i}
                aria-sort={sort?.column === i ? sort.direction : c.sortable ? 'none' : undefined}
                className={cn(c.align === 'right' && 'text-right', c.className)}
              >
                {c.sortable ? (
                  <button
                    type="button"
                    onClick={() => toggle(i)}
                    className="inline-flex items-center gap-1 rounded hover:text-foreground focus-visible:outline-none focus-visible:ring-2 focus-visible:ring-ring"
                  >
                    {c.header}
                    <span aria-hidden="true">
                      {sort?.column === i ? (sort.direction === 'ascending' ? '▲' : '▼') : '↕'}
                    </span>
                  </button>
                ) : c.hidden ? (
                  <span className="sr-only">{c.header}</span>
                ) : (
                  c.header
                )}
              </TableHead>
            ))}
          </TableRow>
        </TableHeader>
        <TableBody>
          {shown.length === 0 ? (
            <TableRow>
              <TableCell colSpan={columns.length} className="text-muted-foreground">
                {empty}
              </TableCell>
            </TableRow>
          ) : (
            shown.map((row) => (
              <TableRow key={row.key}>
                {row.cells.map((cell, i) => (
                  <TableCell
                    // biome-ignore lint/suspicious/noArrayIndexKey: a row's cells are its columns, in order
                    key={i}
                    className={cn(columns[i]?.align === 'right' && 'text-right', columns[i]?.className)}
                  >
                    {cell}
                  </TableCell>
                ))}
              </TableRow>
            ))
          )}
        </TableBody>
      </Table>
      {pages > 1 ? (
        <nav aria-label={`${label}: pages`} className="mt-3 flex items-center justify-between gap-3 text-sm">
          <span className="text-muted-foreground">
            Rows {current * pageSize + 1}–{current * pageSize + shown.length} of {sorted.length}
          </span>
          <span className="flex gap-2">
            <Button variant="outline" size="sm" disabled={current === 0} onClick={() => setPage(current - 1)}>
              Previous
            </Button>
            <Button variant="outline" size="sm" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
              Next
            </Button>
          </span>
        </nav>
      ) : null}
    </div>
  );
}
