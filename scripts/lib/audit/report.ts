/** The audit's report as a person reads it: a line per check, the offenders of a failed one, a summary. */
import type { AuditReport } from './audit.ts';

/** Offenders listed per check; the rest are counted. */
export const MAX_LISTED = 20;

export function formatReport(report: AuditReport): string {
  const lines: string[] = [];
  lines.push(`Folio consistency audit at ${report.at} (changes younger than ${report.graceSeconds} s are not judged)`);
  lines.push(
    `  databases: ${Object.entries(report.databases)
      .map(([service, db]) => `${service} ${db}`)
      .join(', ')}`,
  );
  lines.push('');
  const width = Math.max(...report.checks.map((c) => c.name.length));
  report.checks.forEach((c, i) => {
    const mark = c.offenders.length === 0 ? '✓' : '✗';
    const outcome = c.offenders.length === 0 ? '' : `, ${c.offenders.length} violation${c.offenders.length === 1 ? '' : 's'}`;
    lines.push(`${mark} ${i + 1}. ${c.name.padEnd(width)}  ${c.description} — ${c.checked} ${c.unit} checked${outcome}`);
    for (const fact of c.facts ?? []) lines.push(`       ${fact}`);
    for (const o of c.offenders.slice(0, MAX_LISTED)) lines.push(`       ${o.id}  ${o.detail}`);
    if (c.offenders.length > MAX_LISTED) lines.push(`       … and ${c.offenders.length - MAX_LISTED} more`);
  });
  lines.push('');
  const failed = report.checks.filter((c) => c.offenders.length > 0);
  lines.push(
    failed.length === 0
      ? `Consistent: all ${report.checks.length} checks pass.`
      : `INCONSISTENT: ${report.violations} violation${report.violations === 1 ? '' : 's'} in ${failed.length} of ${report.checks.length} checks (${failed.map((c) => c.name).join(', ')}).`,
  );
  return lines.join('\n');
}
