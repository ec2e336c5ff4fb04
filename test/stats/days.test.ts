import t from 'tap';
import { addDays, daysInRange, eachDay, MAX_LISTED_DAYS } from '../../src/stats/days.ts';

t.test('eachDay lists the days of a range by counting, also at the end of the calendar', async (t) => {
  t.same(eachDay('2026-03-01', '2026-03-01'), ['2026-03-01'], 'one day');
  t.same(eachDay('2024-02-28', '2024-03-01'), ['2024-02-28', '2024-02-29', '2024-03-01'], 'a leap day');
  t.same(eachDay('2026-03-02', '2026-03-01'), [], 'an empty range');
  const last = eachDay('9999-12-20', '9999-12-31');
  t.equal(last.length, 12, 'the last days JavaScript can write as YYYY-MM-DD');
  t.equal(last.at(-1), '9999-12-31');
  t.ok(addDays('9999-12-31', 1) < '9999-12-31', 'the day after (year +010000) sorts before it: why string order may not end a loop');
});

t.test('eachDay refuses a range longer than any page shows, instead of building it', async (t) => {
  t.equal(eachDay('2024-01-01', '2024-12-31').length, MAX_LISTED_DAYS, 'a leap year fits');
  t.throws(() => eachDay('2026-01-01', '2027-12-31'), RangeError);
  t.throws(() => eachDay('0001-01-01', '9999-12-31'), RangeError);
  t.throws(() => eachDay('2026-01-01', 'soon'), RangeError, 'not a day');
  t.equal(eachDay('2026-01-01', '2026-12-31', 400).length, 365, 'the cap is a parameter');
  t.equal(daysInRange('2026-01-01', '2026-12-31'), 365);
});
