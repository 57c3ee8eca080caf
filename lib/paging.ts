// Paging of the console's long lists, as their addresses ask for it.
/** The 0-based page an address asks for with `?page=` (counted from 1 there, as people count), kept within the
 *  pages there are: anything else is the first. */
export function pageOf(asked: unknown, total: number, pageSize: number): number {
  const pages = Math.max(1, Math.ceil(total / pageSize));
  const n = typeof asked === 'string' && /^[1-9][0-9]{0,8}$/.test(asked) ? Number(asked) - 1 : 0;
  return Math.min(pages - 1, n);
}
