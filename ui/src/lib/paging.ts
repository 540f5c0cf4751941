/** How many pages `total` items make at `size` per page (at least one). */
export function pageCount(total: number, size: number): number {
  return Math.max(1, Math.ceil(total / Math.max(1, size)));
}

/** "21–40 of 389", or "No results". */
export function rangeLabel(from: number, shown: number, total: number): string {
  if (total === 0 || shown === 0) return "No results";
  return `${(from + 1).toLocaleString("en-US")}–${(from + shown).toLocaleString("en-US")} of ${total.toLocaleString("en-US")}`;
}
