// Two clocks. Everything that measures or schedules — flow periods, tombstones,
// grace periods, how long a flow lasted — runs on CLOCK_MONOTONIC, which no NTP
// step or `date -s` moves, and which every process of the host shares (the
// destroy-notification child stamps with it too). Only what is shown is wall
// time: a monotonic instant plus the wall-minus-monotonic offset read at the
// poll that shows it, so after a clock jump every time shown follows the new
// clock while durations stay true.

/** CLOCK_MONOTONIC in milliseconds (the same in every process of the host). */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
