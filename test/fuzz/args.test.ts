// The fuzz runner's stop time: --minutes after the start, --until HH:MM (UTC) the next such
// time (a time already past today is tomorrow's), an ISO date as given, whichever is first.

import { describe, expect, it } from 'vitest';
import { parseArgs, stopTime } from './args.js';

const at = (iso: string): number => new Date(iso).getTime();

describe('fuzz --until and --minutes', () => {
  it('takes the next HH:MM, tomorrow when it has passed today', () => {
    const started = at('2026-12-07T22:53:00Z');
    expect(stopTime(parseArgs(['--until', '23:30']), started)).toBe(at('2026-12-07T23:30:00Z'));
    expect(stopTime(parseArgs(['--until', '00:02']), started)).toBe(at('2026-12-08T00:02:00Z'));
    expect(stopTime(parseArgs(['--until', '22:53']), started)).toBe(at('2026-12-08T22:53:00Z'));
  });

  it('takes an ISO date as given, and the earlier of --until and --minutes', () => {
    const started = at('2026-12-07T22:53:00Z');
    expect(stopTime(parseArgs(['--until', '2026-12-07T22:00:00Z']), started)).toBe(at('2026-12-07T22:00:00Z'));
    expect(stopTime(parseArgs(['--minutes', '10', '--until', '00:02']), started)).toBe(started + 600_000);
    expect(stopTime(parseArgs([]), started)).toBe(Infinity);
    expect(() => stopTime(parseArgs(['--until', 'soon']), started)).toThrow(/--until: bad time soon/);
    expect(() => stopTime(parseArgs(['--until', '25:00']), started)).toThrow(/--until: bad time 25:00/);
    expect(() => stopTime(parseArgs(['--until', '12:75']), started)).toThrow(/--until: bad time 12:75/);
  });
});
