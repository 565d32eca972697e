// Plain-text tables and headings for the demo output.

export function heading(title: string) {
  console.log(`\n${title}\n${"─".repeat(Math.min(78, title.length))}`);
}

export function table(headers: string[], rows: (string | number)[][], align: ("l" | "r")[] = []) {
  const cells = [headers, ...rows.map((r) => r.map(String))];
  const widths = headers.map((_, c) => Math.max(...cells.map((r) => [...(r[c] ?? "")].length)));
  const line = (r: string[]) =>
    r.map((cell, c) => (align[c] === "r" ? cell.padStart(widths[c]) : cell.padEnd(widths[c]))).join("  ").trimEnd();
  console.log(line(headers));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of cells.slice(1)) console.log(line(r));
}
